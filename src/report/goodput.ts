// Goodput of a saved run under latency SLOs, as vLLM's `--goodput` and DistServe define it: measured requests that
// completed and met every given SLO, divided by the measured wall time. Derived from the per-request records, so
// any SLO can be applied after the fact (`runs show --goodput`, `compare --goodput`). Pure.
import type { RequestRecord, RunFile } from '../engine/types.js';

export interface GoodputSlo {
  readonly ttftMs?: number;
  readonly tpotMs?: number;
  readonly e2eMs?: number;
}

export interface Goodput {
  /** Completed measured requests within every SLO. */
  readonly good: number;
  /** Measured requests that finished (completed or failed); a failure never meets an SLO. */
  readonly finished: number;
  /** good / measured wall time; null when nothing was measured. */
  readonly goodputReqS: number | null;
  /** good / finished * 100; null when nothing finished. */
  readonly goodPct: number | null;
}

export class GoodputSpecError extends Error {
  override name = 'GoodputSpecError';
}

const SLO_KEYS: Record<string, keyof GoodputSlo> = { ttft: 'ttftMs', tpot: 'tpotMs', e2e: 'e2eMs', e2el: 'e2eMs' };
const SPEC_HELP = 'write it as ttft:MS,tpot:MS,e2e:MS (any of the three; vLLM\'s "e2el" is accepted for e2e), e.g. --goodput ttft:500,tpot:50';

/** Parses "ttft:500,tpot:50" (also space-separated, or with "="), as vLLM's `--goodput` takes it. */
export function parseGoodputSpec(spec: string): GoodputSlo {
  const parts = spec.split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length === 0) throw new GoodputSpecError(`--goodput needs at least one SLO: ${SPEC_HELP}`);
  const slo: Record<string, number> = {};
  for (const part of parts) {
    const m = /^([a-z0-9]+)[:=](.*)$/i.exec(part);
    const key = m ? SLO_KEYS[m[1].toLowerCase()] : undefined;
    if (!m || !key) throw new GoodputSpecError(`--goodput: "${part}" is not an SLO; ${SPEC_HELP}`);
    const v = Number(m[2]);
    if (m[2].trim() === '' || !Number.isFinite(v) || v <= 0) throw new GoodputSpecError(`--goodput: ${m[1]} must be a positive number of milliseconds (got "${m[2]}")`);
    if (slo[key] !== undefined) throw new GoodputSpecError(`--goodput: ${m[1]} is given twice`);
    slo[key] = v;
  }
  return slo as GoodputSlo;
}

/** "TTFT <= 500 ms, TPOT <= 50 ms". */
export function describeSlo(slo: GoodputSlo): string {
  const parts: string[] = [];
  if (slo.ttftMs !== undefined) parts.push(`TTFT <= ${slo.ttftMs} ms`);
  if (slo.tpotMs !== undefined) parts.push(`TPOT <= ${slo.tpotMs} ms`);
  if (slo.e2eMs !== undefined) parts.push(`E2E <= ${slo.e2eMs} ms`);
  return parts.join(', ');
}

/** A request with one output token has no TPOT; like vLLM (TPOT 0 there) it meets any TPOT SLO. */
export function meetsSlo(r: RequestRecord, slo: GoodputSlo): boolean {
  if (r.status !== 'ok') return false;
  if (slo.ttftMs !== undefined && (r.ttftMs === null || r.ttftMs > slo.ttftMs)) return false;
  if (slo.tpotMs !== undefined && r.tpotMs !== null && r.tpotMs > slo.tpotMs) return false;
  if (slo.e2eMs !== undefined && (r.e2eMs === null || r.e2eMs > slo.e2eMs)) return false;
  return true;
}

export function goodput(run: Pick<RunFile, 'requests' | 'summary'>, slo: GoodputSlo): Goodput {
  let good = 0;
  let finished = 0;
  for (const r of run.requests) {
    if (r.warmup || r.status === 'cancelled') continue;
    finished++;
    if (meetsSlo(r, slo)) good++;
  }
  const wall = run.summary.measuredWallS;
  return { good, finished, goodputReqS: wall > 0 ? good / wall : null, goodPct: finished > 0 ? (good / finished) * 100 : null };
}
