// The live run dashboard: header (preset, backend, model with its honest label, topology, elapsed, ETA), progress
// bar and spinner, telemetry, streaming percentiles, throughput, crops-per-request histogram, latency sparkline,
// errors, and the key hints. A pure view of DashboardState: the caller decides the hints and what keys do.
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import { RANDOM_WEIGHTS_LABEL } from '../../report/describe.js';
import { fmtDuration, fmtMs, fmtRate, rangeText } from '../../report/format.js';
import { bar, gibCell, histogramRows, msCell, ofTotal, pctCell, sparkline, truncate } from '../cells.js';
import { dashboardLayout, finishedNotes, type DashboardLayout } from '../dashboard-layout.js';
import type { DashboardState } from '../state.js';
import { useTerminalSize, type TerminalSize } from '../terminal-size.js';
import { HScroll } from './HScroll.js';
import { KeyHints } from './KeyHints.js';
import { PercentileTable } from './PercentileTable.js';
import { ServerPanel } from './ServerPanel.js';
import { TelemetryPanel } from './TelemetryPanel.js';
import { loadText, panScanText } from '../../report/phrases.js';
import { rooflineShort } from '../../report/roofline.js';

export const PROGRESS_BAR_CHARS = 32;
export const SPARKLINE_CHARS = 48;
const HIST_BAR_CHARS = 20;

type Props = {
  readonly state: DashboardState;
  readonly hints: readonly (readonly [string, string])[];
  /** Animate the spinner (off in tests that compare whole frames). */
  readonly animate?: boolean;
  /** The terminal's size (default: the terminal's own). */
  readonly size?: Partial<TerminalSize>;
  /** How far the content is scrolled right (←/→), when it is wider than the terminal. */
  readonly offset?: number;
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

function Header({ s, layout }: { readonly s: DashboardState; readonly layout: DashboardLayout }) {
  const model = s.backend ? honestModelLabel(s.backend.model) : null;
  const st = s.settings;
  const replicas = s.replicas.length ? s.replicas : [];
  const gpusPer = s.preset?.topology.gpusPerReplica ?? null;
  const topo = st
    ? `${st.replicas} replica${st.replicas === 1 ? '' : 's'}${gpusPer !== null && replicas.some((r) => r.gpuIndices.length > 0) ? ` × ${gpusPer} GPU${gpusPer === 1 ? '' : 's'}` : ''}` +
      (replicas.length ? `: ${replicas.map((r) => `r${r.replica} ${r.devices.join(',') || '-'}${r.died ? ' (died)' : ''}`).join(' · ')}` : '')
    : '-';
  const eta = s.progress?.etaS ?? null;
  const w = layout.columns;
  // Before run-started the header says what was asked for, never a row of placeholders.
  const title = s.preset
    ? [s.preset.name, s.backend?.name ?? null, model].filter((x): x is string => x !== null)
    : s.requested
      ? [s.requested.preset, s.requested.backend, s.requested.model === 'tiny' ? `gemma3-tiny, ${RANDOM_WEIGHTS_LABEL}` : s.requested.model || 'the server\'s model']
      : ['preparing the run'];
  const tail = `${title.join(' · ')}`;
  const etaText = s.finished ? (s.finished.status === 'completed' ? 'done' : '-') : eta === null ? '-' : fmtDuration(eta);
  const clock = ` · elapsed ${fmtDuration(s.atMs / 1000)} · ETA ${etaText}`;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold color="cyan">gemma-bench</Text>
        {' · '}
        <Text color={s.backend?.model.randomWeights || (!s.backend && s.requested?.model === 'tiny') ? 'yellow' : undefined}>{truncate(tail, w - 14)}</Text>
      </Text>
      <Text>
        <Text dimColor>topology </Text>
        {truncate(topo, Math.max(10, w - 9 - clock.length))}
        <Text dimColor>{clock}</Text>
      </Text>
      {st && layout.settingsLine ? <Text dimColor>{truncate(settingsLine(s), w)}</Text> : null}
    </Box>
  );
}

function ProgressLine({ s, animate, layout }: { readonly s: DashboardState; readonly animate: boolean; readonly layout: DashboardLayout }) {
  const st = statusText(s);
  const planned = s.plannedRequests;
  const fraction = planned ? Math.min(1, s.requestsDone / planned) : s.finished ? 1 : null;
  const busy = !s.finished && !s.ended;
  const p = s.progress;
  const counts = `${ofTotal(s.requestsDone, planned)} requests`;
  const rest = ` (warmup ${s.warmupDone}${s.settings ? `/${s.settings.warmup}` : ''}) · in flight ${p?.inFlight ?? 0} · queued ${p?.queued ?? 0} · failed ${s.requestsFailed}`;
  const barChars = Math.max(10, Math.min(PROGRESS_BAR_CHARS, layout.columns - counts.length - rest.length - 2));
  return (
    <Box flexDirection="column" marginTop={layout.margins ? 1 : 0}>
      <Text>
        {busy && animate ? (
          <Text color="cyan">
            <Spinner type="dots" />
          </Text>
        ) : (
          <Text color={st.color}>{s.finished ? (s.finished.status === 'completed' ? '✔' : s.finished.status === 'interrupted' ? '■' : '✖') : busy ? '•' : '✖'}</Text>
        )}{' '}
        <Text color={st.color}>{truncate(st.text, layout.columns - 2)}</Text>
      </Text>
      <Text>
        {bar(fraction, barChars)} {counts}
        <Text dimColor>{truncate(rest, Math.max(0, layout.columns - barChars - 1 - counts.length))}</Text>
      </Text>
    </Box>
  );
}

function Rates({ s, columns }: { readonly s: DashboardState; readonly columns: number }) {
  const src = s.finished?.summary ?? s.progress?.snapshot ?? null;
  const long = ` · per request (mean) ${fmtRate(src?.tokensPerSMean, 'tok/s')}`;
  const head = `Throughput ${fmtRate(src?.throughputReqS, 'req/s')} · output ${fmtRate(src?.outputTokensPerS, 'tok/s')}`;
  const tail = ` · completed ${src?.completed ?? 0}`;
  // On a narrow terminal the per-request rate says less, so the line stays one line.
  const perRequest = (head + long + tail).length <= columns ? long : ` · ${fmtRate(src?.tokensPerSMean, 'tok/s')}/req`;
  return (
    <Text wrap="truncate-end">
      <Text bold>Throughput </Text>
      {fmtRate(src?.throughputReqS, 'req/s')}
      <Text dimColor> · output </Text>
      {fmtRate(src?.outputTokensPerS, 'tok/s')}
      <Text dimColor>{perRequest.startsWith(' · per') ? ' · per request (mean) ' : ' · '}</Text>
      {fmtRate(src?.tokensPerSMean, 'tok/s')}
      {perRequest.startsWith(' · per') ? '' : '/req'}
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
function Roofline({ s, columns }: { readonly s: DashboardState; readonly columns: number }) {
  const r = s.finished?.summary.roofline;
  if (!r) return null;
  return r.unknown !== null ? (
    <Text dimColor>Roofline {truncate(rooflineShort(r), columns - 9)}</Text>
  ) : (
    <Text>
      <Text bold>Roofline </Text>
      {truncate(rooflineShort(r), columns - 9)}
    </Text>
  );
}

/** The final screen's 95% intervals of the headline numbers, once computed (off the UI thread, after the run). */
export function intervalsLine(s: DashboardState): string | null {
  const iv = s.intervals;
  if (!iv || !s.finished) return null;
  const ms = (x: readonly [number, number] | undefined) => (x ? rangeText(x, fmtMs) : '-');
  const rate = (x: readonly [number, number] | null, unit: string) => (x ? rangeText(x, (v) => fmtRate(v, unit)) : '-');
  return `E2E p50 ${ms(iv.latency.e2eMs?.p50)} · p95 ${ms(iv.latency.e2eMs?.p95)} · TTFT p50 ${ms(iv.latency.ttftMs?.p50)} · ${rate(iv.throughputReqS, 'req/s')} · ${rate(iv.outputTokensPerS, 'tok/s')}`;
}

function Intervals({ s, columns }: { readonly s: DashboardState; readonly columns: number }) {
  const line = intervalsLine(s);
  if (line === null) return null;
  return (
    <Text>
      <Text bold>95% CI </Text>
      {truncate(line, columns - 7)}
    </Text>
  );
}

function CropsAndSpark({ s, layout }: { readonly s: DashboardState; readonly layout: DashboardLayout }) {
  const measured = s.finished?.summary.cropsHistogram ?? s.progress?.snapshot.cropsHistogram ?? {};
  const hasMeasured = Object.keys(measured).length > 0;
  const hist = hasMeasured ? measured : (s.workload?.cropsHistogram ?? {});
  const rows = histogramRows(hist, HIST_BAR_CHARS);
  const series = s.latencySeries;
  const spark = layout.sparkChars;
  const shown = series.slice(-spark);
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
        <Text bold>{truncate(`E2E latency over time (ms, last ${shown.length || spark} request${shown.length === 1 ? '' : 's'})`, layout.columns - 41)}</Text>
        {shown.length ? (
          <>
            <Text color="cyan">{sparkline(shown, spark)}</Text>
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

/** The telemetry as one line (the compact layout): the CPU or the GPUs at a glance. */
function TelemetryLine({ s, columns }: { readonly s: DashboardState; readonly columns: number }) {
  const t = s.telemetry;
  let text: string;
  if (!t) text = 'waiting for the first sample…';
  else if (t.kind === 'cpu') {
    const c = t.sample;
    text = `CPU ${pctCell(c.utilPct)} % over ${c.cpus.length} core${c.cpus.length === 1 ? '' : 's'} · process RSS ${gibCell(c.processRssMiB)} GiB · system memory ${gibCell(c.memUsedMiB)}/${gibCell(c.memTotalMiB)} GiB`;
  } else {
    const ok = t.gpus.filter((g) => g.state === 'ok');
    const utils = ok.map((g) => g.utilPct).filter((u): u is number => u !== null);
    const mean = utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : null;
    const used = ok.reduce((a, g) => a + (g.memUsedMiB ?? 0), 0);
    const total = ok.reduce((a, g) => a + (g.memTotalMiB ?? 0), 0);
    const lost = t.gpus.length - ok.length;
    text = `${t.gpus.length} GPU${t.gpus.length === 1 ? '' : 's'} · util mean ${pctCell(mean)} % (min ${pctCell(utils.length ? Math.min(...utils) : null)}, max ${pctCell(utils.length ? Math.max(...utils) : null)}) · memory ${gibCell(used)}/${gibCell(total)} GiB${lost ? ` · ${lost} not reporting` : ''}`;
  }
  const servers = s.servers.length ? ` · ${s.servers.length} server${s.servers.length === 1 ? '' : 's'}: running ${s.servers.reduce((a, x) => a + (x.server.running ?? 0), 0)}, waiting ${s.servers.reduce((a, x) => a + (x.server.waiting ?? 0), 0)}` : '';
  return (
    <Text>
      <Text bold>Telemetry </Text>
      {truncate(text + servers, columns - 10)}
    </Text>
  );
}

function Errors({ s, layout }: { readonly s: DashboardState; readonly layout: DashboardLayout }) {
  const warn = s.logs.filter((l) => l.level === 'warn').slice(-2);
  const w = layout.columns - 2;
  const lines = [
    ...s.errors.map((e) => ({ color: 'red' as const, text: truncate(e.message.replace(/\s+/g, ' '), w) })),
    ...warn.map((l) => ({ color: 'yellow' as const, text: `warning: ${truncate(l.message.replace(/\s+/g, ' '), w - 9)}` })),
  ].slice(0, layout.errorLines);
  return (
    <Box flexDirection="column" marginTop={layout.margins ? 1 : 0}>
      <Text>
        <Text bold color={s.errorCount ? 'red' : undefined}>
          Errors {s.errorCount}
        </Text>
        {s.errorCount ? <Text dimColor> (last {s.errors.length})</Text> : null}
      </Text>
      {layout.errorLines > 0
        ? lines.map((l, i) => (
            <Text key={i} color={l.color}>
              {'  '}
              {l.text}
            </Text>
          ))
        : null}
    </Box>
  );
}

function Outcome({ s, layout }: { readonly s: DashboardState; readonly layout: DashboardLayout }) {
  if (s.finished) {
    const f = s.finished;
    return (
      <Box flexDirection="column" marginTop={layout.margins ? 1 : 0}>
        <Text color={f.status === 'completed' ? 'green' : f.status === 'interrupted' ? 'yellow' : 'red'}>
          Run {s.runId} {f.status}
          {f.file ? ', saved to' : ': NOT saved'}
        </Text>
        {f.file ? <Text>  {truncate(f.file, layout.columns - 2)}</Text> : null}
        {finishedNotes(s).slice(0, layout.notes).map((n, i) => (
          <Text key={i} dimColor>
            note: {truncate(n.replace(/\s+/g, ' '), layout.columns - 6)}
          </Text>
        ))}
      </Box>
    );
  }
  if (s.fatal) {
    return (
      <Box marginTop={layout.margins ? 1 : 0}>
        <Text color="red">✖ {truncate(s.fatal.replace(/\s+/g, ' '), layout.columns - 2)}</Text>
      </Box>
    );
  }
  return null;
}

export function Dashboard({ state: s, hints, animate = true, size, offset = 0 }: Props) {
  const metrics = s.finished?.summary.metrics ?? s.progress?.snapshot.metrics ?? null;
  const layout = dashboardLayout(s, useTerminalSize(size));
  const m = layout.margins ? 1 : 0;
  const table = (
    <Box marginTop={m} flexDirection="column">
      <PercentileTable metrics={metrics} mode={s.finished ? 'final' : 'live'} columns={layout.columns} />
      <Rates s={s} columns={layout.columns} />
      <Parity s={s} />
      <Roofline s={s} columns={layout.columns} />
      <Intervals s={s} columns={layout.columns} />
    </Box>
  );
  const scrolls = layout.contentWidth > layout.columns;
  const allHints = scrolls ? [...hints, ['←/→', 'scroll'] as const] : hints;
  if (layout.compact) {
    // Pinned at the top: title, progress and the percentiles; the rest collapsed under them.
    return (
      <Box flexDirection="column" width={layout.columns}>
        <Header s={s} layout={layout} />
        <ProgressLine s={s} animate={animate} layout={layout} />
        {table}
        <Box marginTop={m}>
          <TelemetryLine s={s} columns={layout.columns} />
        </Box>
        <Errors s={s} layout={layout} />
        <Outcome s={s} layout={layout} />
        <KeyHints hints={allHints} marginTop={m} columns={layout.columns} />
      </Box>
    );
  }
  return (
    <Box flexDirection="column">
      <HScroll width={layout.columns} contentWidth={layout.contentWidth} offset={offset}>
        <Header s={s} layout={layout} />
        <ProgressLine s={s} animate={animate} layout={layout} />
        <Box marginTop={1}>
          <TelemetryPanel telemetry={s.telemetry} replicas={s.replicas} note={s.telemetryNote} />
        </Box>
        <ServerPanel servers={s.servers} remoteGpus={s.remoteGpus} />
        {table}
        <CropsAndSpark s={s} layout={layout} />
        <Errors s={s} layout={layout} />
        <Outcome s={s} layout={layout} />
      </HScroll>
      <KeyHints hints={allHints} columns={layout.columns} />
    </Box>
  );
}
