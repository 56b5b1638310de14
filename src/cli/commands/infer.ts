// `gemma-bench infer IMAGE`: one real request through the onnx backend (preprocess -> vision -> prefill -> greedy
// decode with the KV cache), printing its timings and token ids. The smallest end-to-end check of a model.
import { flag, helpText, num, parseCommand, str, UsageError, type CommandDef } from '../args.js';
import { EXIT_FAILED, EXIT_OK } from '../command.js';
import { loadPreset } from '../../config/load-preset.js';
import { issueLines } from '../../config/fields.js';
import { EngineKnobsSchema } from '../../config/preset-schema.js';
import { resolvePreprocess } from '../../config/resolve-run-spec.js';
import { PREPROCESS_FIELDS } from '../../config/run-spec.js';
import { backendDefinition } from '../../engine/backends/registry.js';
import { optionsOf, valuesOf } from '../run-flags.js';
import { nowMs } from '../../util/clock.js';
import { DEFAULT_PROMPT } from '../../panscan/prompt.js';
import { resolve } from 'node:path';
import { ImageDecodeError, readImageFile, readImageHeader } from '../../panscan/decode.js';

const ONNX = backendDefinition('onnx');

export const command: CommandDef = {
  name: 'infer',
  summary: 'run one request through the onnx backend and print its timings and token ids',
  usage: 'IMAGE [options]',
  options: {
    ...optionsOf(ONNX.fields),
    preset: { type: 'string', placeholder: 'NAME|FILE', description: 'pan-and-scan settings and maxNewTokens from a preset (default: HF defaults, P&S on)' },
    prompt: { type: 'string', placeholder: 'TEXT', description: `the question (default: "${DEFAULT_PROMPT}")` },
    'max-new-tokens': { type: 'string', placeholder: 'N', description: 'tokens to generate, EOS ignored (default 32, or the preset\'s)' },
    ...optionsOf([PREPROCESS_FIELDS.exifOrientation, PREPROCESS_FIELDS.pixelLimit]),
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
  const { settings: preprocess } = resolvePreprocess(preset, valuesOf([PREPROCESS_FIELDS.exifOrientation, PREPROCESS_FIELDS.pixelLimit], values));
  const maxNewTokens = num(values, 'max-new-tokens', { integer: true, min: 1 }) ?? (preset ? preset.generation.maxNewTokens : 32);
  const json = flag(values, 'json');
  const log = (level: string, message: string) => {
    if (!json || level !== 'info') process.stderr.write(`${message}\n`);
  };
  const options = ONNX.options.safeParse(valuesOf(ONNX.fields, values));
  if (!options.success) throw new UsageError(issueLines(options.error).join('\n'));
  const image = resolve(positionals[0]);
  // The image is checked before the model loads: a missing or unusable one is a usage error, said once.
  try {
    await readImageHeader(await readImageFile(image), preprocess, positionals[0]);
  } catch (err) {
    if (err instanceof ImageDecodeError) throw new UsageError(err.file === image ? err.message.replace(image, positionals[0]) : err.message);
    throw err;
  }
  const backend = await ONNX.create(options.data, { log, engine: EngineKnobsSchema.parse({}), batchSize: 1, seed: 0 });
  const [replica] = await backend.start({ replicas: 1, gpusPerReplica: 1, log });
  try {
    const dispatched = nowMs();
    const [res] = await replica.infer([{ id: 0, imagePath: image, prompt: str(values, 'prompt') ?? DEFAULT_PROMPT, maxNewTokens, preprocess }]);
    if (!res.ok) {
      // The worker's image errors name the file already.
      const error = res.error ?? 'inference failed';
      process.stderr.write(`gemma-bench infer: ${error.startsWith(image) ? positionals[0] + error.slice(image.length) : error}\n`);
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
