// `gemma-bench infer IMAGE`: one real request through the onnx backend (preprocess -> vision -> prefill -> greedy
// decode with the KV cache), printing its timings and token ids. The smallest end-to-end check of a model.
import { flag, helpText, num, oneOf, parseCommand, str, UsageError, type CommandDef } from '../args.js';
import { EXIT_FAILED, EXIT_OK } from '../command.js';
import { loadPreset } from '../../config/load-preset.js';
import { resolvePanScan } from '../../config/resolve-panscan.js';
import { OnnxBackend } from '../../engine/backends/onnx/index.js';
import { nowMs } from '../../util/clock.js';
import { DEFAULT_PROMPT } from '../../panscan/prompt.js';
import { DEFAULT_PIXEL_LIMIT } from '../../panscan/types.js';
import { resolve } from 'node:path';

export const command: CommandDef = {
  name: 'infer',
  summary: 'run one request through the onnx backend and print its timings and token ids',
  usage: 'IMAGE [options]',
  options: {
    model: { type: 'string', placeholder: 'DIR|tiny', description: 'ONNX export directory (onnx-community layout) or tiny (default: built-in, random weights)' },
    variant: { type: 'string', placeholder: 'SUFFIX', description: 'graph file suffix of a real export, e.g. q4 for *_q4.onnx' },
    preset: { type: 'string', placeholder: 'NAME|FILE', description: 'pan-and-scan settings and maxNewTokens from a preset (default: HF defaults, P&S on)' },
    prompt: { type: 'string', placeholder: 'TEXT', description: `the question (default: "${DEFAULT_PROMPT}")` },
    'max-new-tokens': { type: 'string', placeholder: 'N', description: 'tokens to generate, EOS ignored (default 32, or the preset\'s)' },
    ep: { type: 'string', placeholder: 'cpu|cuda', description: 'onnxruntime execution provider (default cpu)' },
    threads: { type: 'string', placeholder: 'N', description: 'intra-op threads (default all cores)' },
    'exif-orientation': { type: 'string', placeholder: 'apply|ignore', description: 'apply EXIF orientation first (default ignore)' },
    json: { type: 'boolean', description: 'print {model, numCrops, promptTokens, outputTokens, tokenIds, preprocessMs, visionMs, ttftMs, tokenTimesMs}' },
  },
  examples: ['gemma-bench infer receipt.png', 'gemma-bench infer page.png --model ./gemma-3-4b-it-ONNX --variant q4 --max-new-tokens 64 --json'],
};

export async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(command, argv);
  if (flag(values, 'help')) {
    process.stdout.write(helpText(command));
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one image. Run `gemma-bench infer --help`.');
  const presetName = str(values, 'preset');
  const preset = presetName ? loadPreset(presetName) : null;
  const { panScan } = resolvePanScan(preset, {});
  const maxNewTokens = num(values, 'max-new-tokens', { integer: true, min: 1 }) ?? (preset ? preset.generation.maxNewTokens : 32);
  const json = flag(values, 'json');
  const log = (level: string, message: string) => {
    if (!json || level !== 'info') process.stderr.write(`${message}\n`);
  };
  const threads = num(values, 'threads', { integer: true, min: 1 });
  const variant = str(values, 'variant');
  const backend = await OnnxBackend.create({ model: str(values, 'model') ?? 'tiny', ...(variant ? { variant } : {}), ep: oneOf(values, 'ep', ['cpu', 'cuda'] as const) ?? 'cpu', ...(threads ? { threads } : {}), log });
  const preprocess = { panScan, exifOrientation: oneOf(values, 'exif-orientation', ['apply', 'ignore'] as const) ?? 'ignore', pixelLimit: DEFAULT_PIXEL_LIMIT } as const;
  const [replica] = await backend.start({ replicas: 1, gpusPerReplica: 1, log });
  try {
    const dispatched = nowMs();
    const [res] = await replica.infer([{ id: 0, imagePath: resolve(positionals[0]), prompt: str(values, 'prompt') ?? DEFAULT_PROMPT, maxNewTokens, preprocess }]);
    if (!res.ok) {
      process.stderr.write(`${positionals[0]}: ${res.error}\n`);
      return EXIT_FAILED;
    }
    const tokenTimesMs = res.tokenTimes.map((t) => round3(t - dispatched));
    const out = {
      model: backend.model().label,
      numCrops: res.crops,
      promptTokens: res.promptTokens,
      outputTokens: res.outputTokens,
      tokenIds: res.tokenIds,
      preprocessMs: round3(res.preprocessMs ?? 0),
      visionMs: round3(res.visionMs ?? 0),
      ttftMs: tokenTimesMs[0] ?? null,
      tokenTimesMs,
    };
    if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      const n = tokenTimesMs.length;
      const decodeMsPerToken = n >= 2 ? (tokenTimesMs[n - 1] - tokenTimesMs[0]) / (n - 1) : null;
      process.stdout.write(
        [
          `model          ${out.model}`,
          `crops          ${out.numCrops}   prompt tokens ${out.promptTokens}   output tokens ${out.outputTokens}`,
          `preprocess     ${out.preprocessMs.toFixed(1)} ms`,
          `vision         ${out.visionMs.toFixed(1)} ms`,
          `ttft           ${out.ttftMs?.toFixed(1)} ms`,
          `decode         ${decodeMsPerToken === null ? '-' : `${decodeMsPerToken.toFixed(2)} ms/token`}`,
          `token ids      ${out.tokenIds.join(' ')}`,
          '',
        ].join('\n'),
      );
    }
    return EXIT_OK;
  } finally {
    await replica.close();
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
