// Starting a run from the home screen: the request becomes a partial run specification (typed, never flag
// strings), resolved over its preset exactly as `gemma-bench run` resolves flags; the workload is prepared in a
// worker thread, the backend created, and the engine's events pass through the store sink, so the run is saved
// as the CLI saves it. Preparation logs come out as events while it runs.
import { loadPreset } from '../config/load-preset.js';
import { resolveRunSpec } from '../config/resolve-run-spec.js';
import type { RunOverrides } from '../config/run-spec.js';
import type { EngineEvent } from '../engine/events.js';
import type { RunHandle, RunRequest } from '../ui/app-port.js';
import { splitEndpoints } from '../ui/endpoints.js';
import { Channel } from '../util/channel.js';
import { nowMs } from '../util/clock.js';
import { prepareRun } from './prepare-client.js';

/** The partial specification a home-screen request stands for: only what the user set; the preset fills the rest. */
export function requestOverrides(req: RunRequest): RunOverrides {
  const model = req.model.trim();
  const endpoints = req.backend === 'openai' ? splitEndpoints(req.endpoints) : [];
  const backendOptions = { ...(model ? { model } : {}), ...(endpoints.length ? { endpoints } : {}) };
  return {
    backend: req.backend as RunOverrides['backend'],
    ...(Object.keys(backendOptions).length ? { backendOptions } : {}),
    ...(req.images.trim() ? { images: req.images.trim() } : {}),
    ...(req.requests !== null ? { requests: req.requests } : {}),
    ...(req.warmup !== null ? { warmup: req.warmup } : {}),
    ...(req.maxNewTokens !== null ? { maxNewTokens: req.maxNewTokens } : {}),
  };
}

/** Yields what `task` emits while it runs, then returns its value (or throws its error). */
async function* whileRunning<T>(task: (emit: (e: EngineEvent) => void) => Promise<T>): AsyncGenerator<EngineEvent, T> {
  const ch = new Channel<EngineEvent>();
  let result: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
  void task((e) => ch.push(e)).then(
    (value) => (result = { ok: true, value }),
    (error: unknown) => (result = { ok: false, error }),
  ).finally(() => ch.close());
  yield* ch.drain();
  const r = result as { ok: true; value: T } | { ok: false; error: unknown } | null;
  if (!r || !r.ok) throw r?.error;
  return r.value;
}

export interface RunStarterOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly runsDir: string;
  readonly prepareInWorker: boolean;
  /** Called when the run's stream is over, whatever happened. */
  readonly onEnd: (h: RunHandle) => void;
}

export function startRequestedRun(req: RunRequest, o: RunStarterOptions): RunHandle {
  const ac = new AbortController();
  const now = new AbortController();
  const t0 = nowMs();
  const log = (level: 'info' | 'warn' | 'error', message: string): EngineEvent => ({ type: 'log', at: nowMs() - t0, level, message });
  let handle!: RunHandle;
  async function* events(): AsyncGenerator<EngineEvent> {
    try {
      const [{ createBackend }, { runBenchmark }, { persistRuns }, { uniqueRunId }] = await Promise.all([
        import('../engine/prepare.js'),
        import('../engine/run-benchmark.js'),
        import('../store/run-sink.js'),
        import('../store/run-store.js'),
      ]);
      const spec = resolveRunSpec(loadPreset(req.preset, o.env), requestOverrides(req));
      const workload = yield* whileRunning((emit) => prepareRun(spec, (l, m) => emit(log(l, m)), ac.signal, { env: o.env, inWorker: o.prepareInWorker }));
      if (!workload || ac.signal.aborted) return;
      const backend = yield* whileRunning((emit) => createBackend(spec, (l, m) => emit(log(l, m)), o.env));
      if (ac.signal.aborted) return;
      const runId = await uniqueRunId(spec.name, new Date(), o.runsDir);
      try {
        yield* persistRuns(runBenchmark(spec, { backend, workload, runId, signal: ac.signal, stopNow: now.signal }), o.runsDir);
      } finally {
        await backend.close?.();
      }
    } finally {
      o.onEnd(handle);
    }
  }
  handle = {
    events: events(),
    cancel: () => ac.abort(),
    stopNow: () => {
      ac.abort();
      now.abort();
    },
  };
  return handle;
}
