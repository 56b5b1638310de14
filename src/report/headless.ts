// Headless presentation of a run: NDJSON events on stdout (--json), or plain progress lines on stderr and a final
// summary table on stdout, for pipes, CI and scripts. Reads events only; never touches the engine.
import type { EngineEvent } from '../engine/events.js';
import { LATENCY_METRICS, type RunSummary } from '../engine/types.js';
import { METRIC_LABELS } from './describe.js';
import { fmtDuration, fmtMs, fmtRate, padTable } from './format.js';
import { loadText } from './phrases.js';

export const PLAIN_PROGRESS_INTERVAL_MS = 1_000;

export interface Presenter {
  onEvent(e: EngineEvent): void;
}

/** One JSON line per event. run-finished goes without its embedded run file: request-done carried the records, and the file is saved at `file`. */
export function ndjsonPresenter(out: NodeJS.WritableStream = process.stdout): Presenter {
  return { onEvent: (e) => void out.write(`${JSON.stringify(e.type === 'run-finished' ? { ...e, run: undefined } : e)}\n`) };
}

export function plainPresenter(err: NodeJS.WritableStream = process.stderr, out: NodeJS.WritableStream = process.stdout): Presenter {
  let lastProgress = -Infinity;
  let planned: number | null = null;
  return {
    onEvent(e) {
      switch (e.type) {
        case 'run-started':
          planned = e.plannedRequests;
          err.write(
            `run ${e.runId}: preset ${e.preset.name}, ${e.backend.name} backend, model ${e.backend.model.label}\n` +
              `  workload ${e.workload.source}: ${e.workload.images} image(s), crops per image ${JSON.stringify(e.workload.cropsHistogram)}; ` +
              `${loadText(e.settings, 'long')}, ` +
              `${e.settings.requests !== null ? `${e.settings.requests} requests` : `${e.settings.durationS} s`} + ${e.settings.warmup} warmup, ` +
              `${e.settings.replicas} replica(s), batch ${e.settings.batchSize} (${e.settings.batching}), ${e.settings.maxNewTokens} new tokens\n`,
          );
          return;
        case 'replica-ready':
          return;
        case 'phase':
          if (e.phase !== 'saving') err.write(`  ${e.phase}\n`);
          return;
        case 'log':
          err.write(`  ${e.level === 'info' ? '' : `${e.level}: `}${e.message}\n`);
          return;
        case 'replica-died':
          return;
        case 'request-done':
          if (e.record.status === 'failed') err.write(`  request ${e.record.id} failed: ${e.record.error}\n`);
          return;
        case 'telemetry':
        case 'telemetry-started':
          return;
        case 'progress': {
          if (e.at - lastProgress < PLAIN_PROGRESS_INTERVAL_MS) return;
          lastProgress = e.at;
          const s = e.snapshot;
          const done = s.completed + s.failed + s.cancelled + s.warmupDone;
          err.write(
            `  [${fmtDuration(e.at / 1000)}] ${done}${planned !== null ? `/${planned}` : ''} done, ${e.inFlight} in flight${e.queued ? `, ${e.queued} queued` : ''}` +
              `${s.failed ? `, ${s.failed} failed` : ''} | ${fmtRate(s.throughputReqS, 'req/s')} ${fmtRate(s.outputTokensPerS, 'tok/s')}` +
              ` | e2e p50 ${fmtMs(s.metrics.e2eMs.p50)} p95 ${fmtMs(s.metrics.e2eMs.p95)} | ttft p50 ${fmtMs(s.metrics.ttftMs.p50)}` +
              `${e.etaS !== null ? ` | eta ${fmtDuration(e.etaS)}` : ''}\n`,
          );
          return;
        }
        case 'run-finished':
          if (e.summary.completed + e.summary.failed + e.summary.cancelled + e.summary.warmup > 0) out.write(summaryTable(e.summary));
          for (const n of e.notes) out.write(`note: ${n}\n`);
          out.write(`status ${e.status}; run ${e.runId}${e.file ? ` saved to ${e.file}` : ' NOT saved'}\n`);
          return;
      }
    },
  };
}

export function summaryTable(s: RunSummary): string {
  const rows: (string | number | null)[][] = [['metric', 'p50', 'p90', 'p95', 'p99', 'mean', 'min', 'max', 'n']];
  for (const m of LATENCY_METRICS) {
    const x = s.metrics[m];
    if (x.count === 0) continue;
    rows.push([METRIC_LABELS[m], fmtMs(x.p50), fmtMs(x.p90), fmtMs(x.p95), fmtMs(x.p99), fmtMs(x.mean), fmtMs(x.min), fmtMs(x.max), x.count]);
  }
  const head =
    `completed ${s.completed}, failed ${s.failed}, cancelled ${s.cancelled}, warmup ${s.warmup}; measured ${fmtDuration(s.measuredWallS)}\n` +
    `throughput ${fmtRate(s.throughputReqS, 'req/s')}, output ${fmtRate(s.outputTokensPerS, 'tok/s')}, per request ${fmtRate(s.tokensPerSMean, 'tok/s')} (mean)\n`;
  const replicas = s.perReplica.length > 1 ? `\n${padTable([['replica', 'devices', 'completed', 'failed', 'req/s', 'e2e p50', 'e2e p95'], ...s.perReplica.map((r) => [String(r.replica), r.devices.join(' '), r.completed, r.failed, fmtRate(r.throughputReqS, 'req/s'), fmtMs(r.e2eMs.p50), fmtMs(r.e2eMs.p95)])])}` : '';
  return `${head}\n${padTable(rows)}\n${replicas ? `${replicas}\n` : ""}`;
}
