// An external store for Ink components (read with useSyncExternalStore): inputs are reduced at once, but
// subscribers are told at most once per NOTIFY_INTERVAL_MS (about 15 times a second), and at once for urgent
// inputs (run-finished, a stop request), so a burst of events costs one frame, not one per event.
// Owns: batching of notifications. The state itself comes from a pure reducer passed in. No I/O.

/** The minimum gap between two notifications, ms (about 15 a second). */
export const NOTIFY_INTERVAL_MS = 66;

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface Store<S, A> {
  /** Reduces the input now; notifies now if urgent or if the interval has passed, else at the end of it. */
  dispatch(input: A): void;
  /** The state as last published to subscribers (stable between notifications, as useSyncExternalStore needs). */
  getSnapshot(): S;
  subscribe(listener: () => void): () => void;
  /** Publishes pending changes now. */
  flush(): void;
  /** Cancels a pending notification (call when the screen goes away). */
  dispose(): void;
  /** Notifications sent so far (for tests and the frame-rate check). */
  readonly notifications: number;
}

export interface StoreOptions<A> {
  readonly intervalMs?: number;
  readonly isUrgent?: (input: A) => boolean;
  readonly timers?: Timers;
}

export function createStore<S, A>(reduce: (s: S, a: A) => S, initial: S, o: StoreOptions<A> = {}): Store<S, A> {
  const intervalMs = o.intervalMs ?? NOTIFY_INTERVAL_MS;
  const timers = o.timers ?? realTimers;
  const listeners = new Set<() => void>();
  let state = initial;
  let published = initial;
  let lastNotifyAt = -Infinity;
  let timer: unknown = null;
  let notifications = 0;

  const publish = () => {
    if (timer !== null) {
      timers.clearTimeout(timer);
      timer = null;
    }
    lastNotifyAt = timers.now();
    if (published === state) return;
    published = state;
    notifications++;
    for (const l of [...listeners]) {
      try {
        l();
      } catch {
        // A listener that throws must not stop the others (display never kills a run).
      }
    }
  };

  return {
    dispatch(input) {
      state = reduce(state, input);
      if (state === published) return;
      if (o.isUrgent?.(input)) return publish();
      const wait = lastNotifyAt + intervalMs - timers.now();
      if (wait <= 0) return publish();
      if (timer === null) timer = timers.setTimeout(publish, wait);
    },
    getSnapshot: () => published,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    flush: publish,
    dispose() {
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
    get notifications() {
      return notifications;
    },
  };
}
