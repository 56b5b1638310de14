// The Server panel (openai backend): one row per endpoint from its latest /metrics scrape, running and waiting
// requests, KV-cache use, prefix and multimodal cache hit rates and preemptions over the last interval, and the
// server's own token rate; then the GPUs behind each endpoint when a DCGM exporter was given. Pure view.
import { Box, Text } from 'ink';
import type { DcgmTelemetrySample, ServerTelemetrySample } from '../../telemetry/types.js';
import { fit, fitRight, pctCell, truncate } from '../cells.js';
import { gpuLine, GPU_HEADER } from './TelemetryPanel.js';

const ENDPOINT_CHARS = 30;

const num = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : String(Math.round(v)));
const frac = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : pctCell(v * 100));

const HEADER = `  ${fit('endpoint', ENDPOINT_CHARS)}${fitRight('run', 5)}${fitRight('wait', 6)}${fitRight('KV %', 7)}${fitRight('prefix %', 10)}${fitRight('mm %', 7)}${fitRight('preempt', 9)}${fitRight('gen tok/s', 11)}`;

/** One endpoint's row; hit rates and preemptions are over the last scrape interval. */
export function serverLine(x: ServerTelemetrySample): string {
  const s = x.server;
  const r = x.rates;
  const prefix = s.kind === 'sglang' ? frac(s.cacheHitRate) : frac(r?.prefixCacheHitRate);
  const gen = s.genThroughputTokS ?? r?.generationTokensPerS ?? null;
  return `  ${fit(truncate(s.endpoint, ENDPOINT_CHARS - 1), ENDPOINT_CHARS)}${fitRight(num(s.running), 5)}${fitRight(num(s.waiting), 6)}${fitRight(frac(s.kvCacheUsage), 7)}${fitRight(prefix, 10)}${fitRight(frac(r?.mmCacheHitRate), 7)}${fitRight(num(r?.preemptions), 9)}${fitRight(num(gen), 11)}`;
}

export function ServerPanel({ servers, remoteGpus }: { readonly servers: readonly ServerTelemetrySample[]; readonly remoteGpus: readonly DcgmTelemetrySample[] }) {
  if (servers.length === 0 && remoteGpus.length === 0) return null;
  return (
    <Box flexDirection="column" marginTop={1}>
      {servers.length ? (
        <>
          <Text bold>Server (its /metrics, last interval)</Text>
          <Text dimColor>{HEADER}</Text>
          {servers.map((x) => (
            <Text key={x.server.endpoint}>{serverLine(x)}</Text>
          ))}
        </>
      ) : null}
      {remoteGpus.length ? (
        <>
          <Text bold>GPUs behind the endpoints (DCGM)</Text>
          <Text dimColor>{GPU_HEADER}</Text>
          {remoteGpus.map((d) => (
            <Box key={d.endpoint} flexDirection="column">
              <Text color="cyan">{` ${d.endpoint}${d.gpus[0]?.host ? ` · ${d.gpus[0].host}` : ''}`}</Text>
              {d.gpus.map((g) => (
                <Text key={g.index} color={g.state === 'ok' ? undefined : 'red'}>
                  {gpuLine(g)}
                </Text>
              ))}
            </Box>
          ))}
        </>
      ) : null}
    </Box>
  );
}
