// The live run dashboard: header (preset, backend, model with its honest label, topology, elapsed, ETA), progress
// bar and spinner, telemetry, streaming percentiles, throughput, crops-per-request histogram, latency sparkline,
// errors, and the key hints. A pure view of DashboardState: the caller decides the hints and what keys do.
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import { RANDOM_WEIGHTS_LABEL } from '../../report/describe.js';
import { fmtDuration, fmtRate } from '../../report/format.js';
import { bar, histogramRows, msCell, ofTotal, sparkline, truncate } from '../cells.js';
import type { DashboardState } from '../state.js';
import { KeyHints } from './KeyHints.js';
import { PercentileTable } from './PercentileTable.js';
import { ServerPanel } from './ServerPanel.js';
import { TelemetryPanel } from './TelemetryPanel.js';
import { loadText, panScanText } from '../../report/phrases.js';
import { rooflineShort } from '../../report/roofline.js';

export const PROGRESS_BAR_CHARS = 32;
export const SPARKLINE_CHARS = 48;
const HIST_BAR_CHARS = 20;
const ERROR_LINE_CHARS = 94;

type Props = {
  readonly state: DashboardState;
  readonly hints: readonly (readonly [string, string])[];
  /** Animate the spinner (off in tests that compare whole frames). */
  readonly animate?: boolean;
};

/** The model label, always carrying "random weights: speed only" when that applies. */
export function honestModelLabel(model: { readonly label: string; readonly name: string; readonly randomWeights: boolean }): string {
  const label = model.label || model.name;
  return model.randomWeights && !label.includes(RANDOM_WEIGHTS_LABEL) ? `${label}, ${RANDOM_WEIGHTS_LABEL}` : label;
}

function statusText(s: DashboardState): { text: string; color: 'green' | 'yellow' | 'red' | 'cyan' } {
  if (s.finished) {
    const f = s.finished;
    const color = f.status === 'completed' ? 'green' : f.status === 'interrupted' ? 'yellow' : 'red';
    return { text: `${f.status}${f.file ? '' : ' (NOT saved)'}`, color };
  }
  if (s.status === 'failed') return { text: 'failed', color: 'red' };
  if (s.status === 'stopping') return { text: 'stopping: finishing in-flight work, then saving the partial run…', color: 'yellow' };
  if (s.status === 'preparing' || s.status === 'idle') return { text: s.preparing ?? 'preparing…', color: 'cyan' };
  return { text: s.phase ?? 'starting', color: 'cyan' };
}

function settingsLine(s: DashboardState): string {
  const st = s.settings;
  if (!st) return '';
  const parts: string[] = [];
  if (s.workload) parts.push(`images ${truncate(s.workload.source, 36)} (${s.workload.images})`);
  parts.push(loadText(st, 'long'));
  parts.push(`batch ${st.batchSize} ${st.batching}`, `${st.maxNewTokens} new tokens`);
  if (s.preset) parts.push(panScanText(s.preset.panScan, 'short'));
  return parts.join(' · ');
}

function Header({ s }: { readonly s: DashboardState }) {
  const model = s.backend ? honestModelLabel(s.backend.model) : null;
  const st = s.settings;
  const replicas = s.replicas.length ? s.replicas : [];
  const gpusPer = s.preset?.topology.gpusPerReplica ?? null;
  const topo = st
    ? `${st.replicas} replica${st.replicas === 1 ? '' : 's'}${gpusPer !== null && replicas.some((r) => r.gpuIndices.length > 0) ? ` × ${gpusPer} GPU${gpusPer === 1 ? '' : 's'}` : ''}` +
      (replicas.length ? `: ${replicas.map((r) => `r${r.replica} ${r.devices.join(',') || '-'}${r.died ? ' (died)' : ''}`).join(' · ')}` : '')
    : '-';
  const eta = s.progress?.etaS ?? null;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold color="cyan">gemma-bench</Text>
        {' · '}
        <Text bold>{s.preset?.name ?? '…'}</Text>
        {' · '}
        {s.backend?.name ?? '…'}
        {' · '}
        {model ? <Text color={s.backend?.model.randomWeights ? 'yellow' : undefined}>{model}</Text> : '…'}
      </Text>
      <Text>
        <Text dimColor>topology </Text>
        {truncate(topo, 60)}
        <Text dimColor> · elapsed </Text>
        {fmtDuration(s.atMs / 1000)}
        <Text dimColor> · ETA </Text>
        {s.finished ? (s.finished.status === 'completed' ? 'done' : '-') : eta === null ? '-' : fmtDuration(eta)}
      </Text>
      {st ? <Text dimColor>{truncate(settingsLine(s), 98)}</Text> : null}
    </Box>
  );
}

function ProgressLine({ s, animate }: { readonly s: DashboardState; readonly animate: boolean }) {
  const st = statusText(s);
  const planned = s.plannedRequests;
  const fraction = planned ? Math.min(1, s.requestsDone / planned) : s.finished ? 1 : null;
  const busy = !s.finished && !s.ended;
  const p = s.progress;
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text>
        {busy && animate ? (
          <Text color="cyan">
            <Spinner type="dots" />
          </Text>
        ) : (
          <Text color={st.color}>{s.finished ? (s.finished.status === 'completed' ? '✔' : s.finished.status === 'interrupted' ? '■' : '✖') : busy ? '•' : '✖'}</Text>
        )}{' '}
        <Text color={st.color}>{truncate(st.text, 96)}</Text>
      </Text>
      <Text>
        {bar(fraction, PROGRESS_BAR_CHARS)} {ofTotal(s.requestsDone, planned)} requests
        <Text dimColor>
          {' '}
          (warmup {s.warmupDone}{s.settings ? `/${s.settings.warmup}` : ''}) · in flight {p?.inFlight ?? 0} · queued {p?.queued ?? 0} · failed {s.requestsFailed}
        </Text>
      </Text>
    </Box>
  );
}

function Rates({ s }: { readonly s: DashboardState }) {
  const src = s.finished?.summary ?? s.progress?.snapshot ?? null;
  return (
    <Text>
      <Text bold>Throughput </Text>
      {fmtRate(src?.throughputReqS, 'req/s')}
      <Text dimColor> · output </Text>
      {fmtRate(src?.outputTokensPerS, 'tok/s')}
      <Text dimColor> · per request (mean) </Text>
      {fmtRate(src?.tokensPerSMean, 'tok/s')}
      <Text dimColor> · completed </Text>
      {src?.completed ?? 0}
    </Text>
  );
}

/**
 * The pan-and-scan parity check: requests whose prompt token count differs from what the run's pan-and-scan
 * settings give. Shown for servers (where it catches one that ignored mm_processor_kwargs) and whenever any differ.
 */
function Parity({ s }: { readonly s: DashboardState }) {
  const p = s.finished?.summary.promptTokenParity ?? s.progress?.snapshot.promptTokenParity;
  if (!p || p.checked === 0 || (p.mismatched === 0 && s.backend?.name !== 'openai')) return null;
  return p.mismatched === 0 ? (
    <Text dimColor>Pan-and-scan parity ok: prompt tokens as expected in {p.checked} of {p.checked} requests</Text>
  ) : (
    <Text color="red">
      Pan-and-scan parity: {p.mismatched} of {p.checked} requests got other prompt token counts than the settings give (settings not applied?)
    </Text>
  );
}

/** The finished run's roofline: how close the TTFT and TPOT medians came to the hardware's floor, or why unknown. */
function Roofline({ s }: { readonly s: DashboardState }) {
  const r = s.finished?.summary.roofline;
  if (!r) return null;
  return r.unknown !== null ? (
    <Text dimColor>Roofline {truncate(rooflineShort(r), 91)}</Text>
  ) : (
    <Text>
      <Text bold>Roofline </Text>
      {truncate(rooflineShort(r), 91)}
    </Text>
  );
}

function CropsAndSpark({ s }: { readonly s: DashboardState }) {
  const measured = s.finished?.summary.cropsHistogram ?? s.progress?.snapshot.cropsHistogram ?? {};
  const hasMeasured = Object.keys(measured).length > 0;
  const hist = hasMeasured ? measured : (s.workload?.cropsHistogram ?? {});
  const rows = histogramRows(hist, HIST_BAR_CHARS);
  const series = s.latencySeries;
  const shown = series.slice(-SPARKLINE_CHARS);
  return (
    <Box marginTop={1}>
      <Box flexDirection="column" width={40}>
        <Text bold>Crops per request {hasMeasured ? '(completed, count)' : '(workload images)'}</Text>
        {rows.length ? (
          rows.map((r) => (
            <Text key={r.key}>
              {r.key.padStart(3)} <Text color="cyan">{r.bar}</Text> {r.count}
            </Text>
          ))
        ) : (
          <Text dimColor>  none yet</Text>
        )}
      </Box>
      <Box flexDirection="column">
        <Text bold>E2E latency over time (ms, last {shown.length || SPARKLINE_CHARS} request{shown.length === 1 ? '' : 's'})</Text>
        {shown.length ? (
          <>
            <Text color="cyan">{sparkline(shown, SPARKLINE_CHARS)}</Text>
            <Text dimColor>
              min {msCell(Math.min(...shown))} · max {msCell(Math.max(...shown))} · last {msCell(shown[shown.length - 1])}
            </Text>
          </>
        ) : (
          <Text dimColor>no completed request yet</Text>
        )}
      </Box>
    </Box>
  );
}

function Errors({ s }: { readonly s: DashboardState }) {
  const warn = s.logs.filter((l) => l.level === 'warn').slice(-2);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text>
        <Text bold color={s.errorCount ? 'red' : undefined}>
          Errors {s.errorCount}
        </Text>
        {s.errorCount ? <Text dimColor> (last {s.errors.length})</Text> : null}
      </Text>
      {s.errors.map((e, i) => (
        <Text key={i} color="red">
          {'  '}
          {truncate(e.message.replace(/\s+/g, ' '), ERROR_LINE_CHARS)}
        </Text>
      ))}
      {warn.map((l, i) => (
        <Text key={`w${i}`} color="yellow">
          {'  '}warning: {truncate(l.message.replace(/\s+/g, ' '), ERROR_LINE_CHARS - 9)}
        </Text>
      ))}
    </Box>
  );
}

function Outcome({ s }: { readonly s: DashboardState }) {
  if (s.finished) {
    const f = s.finished;
    return (
      <Box flexDirection="column" marginTop={1}>
        <Text color={f.status === 'completed' ? 'green' : f.status === 'interrupted' ? 'yellow' : 'red'}>
          Run {s.runId} {f.status}
          {f.file ? ', saved to' : ': NOT saved'}
        </Text>
        {f.file ? <Text>  {f.file}</Text> : null}
        {f.notes.slice(0, 3).map((n, i) => (
          <Text key={i} dimColor>
            note: {truncate(n, 92)}
          </Text>
        ))}
      </Box>
    );
  }
  if (s.fatal) {
    return (
      <Box marginTop={1}>
        <Text color="red">✖ {s.fatal}</Text>
      </Box>
    );
  }
  return null;
}

export function Dashboard({ state: s, hints, animate = true }: Props) {
  const metrics = s.finished?.summary.metrics ?? s.progress?.snapshot.metrics ?? null;
  return (
    <Box flexDirection="column">
      <Header s={s} />
      <ProgressLine s={s} animate={animate} />
      <Box marginTop={1}>
        <TelemetryPanel telemetry={s.telemetry} replicas={s.replicas} note={s.telemetryNote} />
      </Box>
      <ServerPanel servers={s.servers} remoteGpus={s.remoteGpus} />
      <Box marginTop={1} flexDirection="column">
        <PercentileTable metrics={metrics} mode={s.finished ? 'final' : 'live'} />
        <Rates s={s} />
        <Parity s={s} />
        <Roofline s={s} />
      </Box>
      <CropsAndSpark s={s} />
      <Errors s={s} />
      <Outcome s={s} />
      <KeyHints hints={hints} />
    </Box>
  );
}
