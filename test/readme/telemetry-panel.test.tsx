// The README's picture of the telemetry panel for `--gpus-per-replica 2 --replicas auto` on 10 GPUs is what the
// panel draws: TelemetryPanel rendered (ink-testing-library, no colour) from the first nvidia-smi tick of the
// recorded-format A100 fixture (test/fixtures/telemetry/a100-10x.ticks.csv) and five replicas of two GPUs each must
// appear in README.md as written. The numbers are the fixture's, not a measurement.
import '../helpers/no-ci.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { render } from 'ink-testing-library';
import { parseNvidiaSmiSamples } from '../../src/telemetry/parse-nvidia-smi.js';
import { TelemetryPanel } from '../../src/ui/components/TelemetryPanel.js';
import type { ReplicaView } from '../../src/ui/state.js';
import { FIXTURES_DIR } from '../helpers/repo.js';
import { readReadme } from './readme.js';

const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');

test("the README's 10-GPU, 5-replica telemetry panel is the panel's own rendering", () => {
  const gpus = parseNvidiaSmiSamples(readFileSync(join(FIXTURES_DIR, 'telemetry', 'a100-10x.ticks.csv'), 'utf8')).gpus.slice(0, 10);
  assert.deepEqual(gpus.map((g) => g.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const replicas: ReplicaView[] = [0, 1, 2, 3, 4].map((r) => ({ replica: r, devices: [`gpu:${2 * r}`, `gpu:${2 * r + 1}`], gpuIndices: [2 * r, 2 * r + 1], loadMs: 60_000, died: null }));
  const r = render(<TelemetryPanel telemetry={{ kind: 'gpu', atMs: 0, gpus }} replicas={replicas} note={null} />);
  const frame = stripAnsi(r.lastFrame() ?? '')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
  r.unmount();
  assert.match(frame, /replica 4 · gpu:8, gpu:9/);
  const readme = readReadme()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
  assert.ok(readme.includes('```\n' + frame + '\n```'), `README.md should show the panel exactly as drawn:\n\`\`\`\n${frame}\n\`\`\``);
});
