// Feeds an engine event stream into a dashboard store: every event is dispatched as it arrives; a stream that
// throws becomes a `ui:stream-failed` input (shown, never rethrown, so a broken stream cannot crash the screen),
// and the end of the stream a `ui:stream-ended`. With `intervalsOf` (the composition root's: it computes them off
// this thread), a saved run's 95% intervals follow as `ui:intervals` once ready. Owns nothing else; no I/O.
import type { EngineEvent } from '../engine/events.js';
import type { RunFile } from '../engine/types.js';
import type { RunIntervals } from '../report/intervals.js';
import type { DashboardInput } from './state.js';

export interface Dispatcher {
  dispatch(input: DashboardInput): void;
}

export interface PumpOptions {
  /** The intervals of the finished run; asked once run-finished has arrived, without holding up the stream. */
  readonly intervalsOf?: (run: RunFile) => Promise<RunIntervals>;
}

/** Resolves when the stream has ended (normally or not) and any intervals asked for have arrived or failed; never rejects. */
export async function pumpEvents(events: AsyncIterable<EngineEvent>, store: Dispatcher, o: PumpOptions = {}): Promise<void> {
  let pending: Promise<void> | null = null;
  try {
    for await (const e of events) {
      store.dispatch(e);
      if (e.type === 'run-finished' && e.run && e.file && o.intervalsOf && !pending) {
        const runId = e.runId;
        // Intervals are extra: when they cannot be computed the final screen simply goes without them.
        pending = o.intervalsOf(e.run).then(
          (intervals) => store.dispatch({ type: 'ui:intervals', runId, intervals }),
          () => undefined,
        );
      }
    }
  } catch (err) {
    store.dispatch({ type: 'ui:stream-failed', message: err instanceof Error ? err.message : String(err) });
  }
  store.dispatch({ type: 'ui:stream-ended' });
  await pending;
}
