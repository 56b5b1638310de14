// `gemma-bench make-model`: write the built-in tiny Gemma 3 (random weights) as an onnx-community-layout model
// directory, optionally with model.safetensors for loading the same weights in transformers.
import { flag, helpText, num, oneOf, parseCommand, str, UsageError, type CommandDef } from '../args.js';
import { EXIT_OK } from '../command.js';
import { buildTinyModel } from '../../model/build-tiny.js';

export const command: CommandDef = {
  name: 'make-model',
  summary: 'build the tiny Gemma-3-architecture model (random weights: speed only) as ONNX graphs',
  usage: '--out DIR [--size tiny] [--seed N] [--hf-weights] [--json]',
  details:
    'Writes vision_encoder.onnx, embed_tokens.onnx, decoder_model_merged.onnx and config.json in the layout of the\n' +
    'onnx-community Gemma 3 exports. The same seed gives byte-identical files. `run` and `infer` build it on first\n' +
    'use into the data directory, so this command is only needed to put it somewhere else.',
  options: {
    out: { type: 'string', placeholder: 'DIR', description: 'directory to write (replaced if it holds an earlier build)' },
    size: { type: 'string', placeholder: 'tiny', description: 'model size; only tiny is built in (real sizes: use --backend transformers --weights random)' },
    seed: { type: 'string', placeholder: 'N', description: 'weight seed (default 0)' },
    'hf-weights': { type: 'boolean', description: 'also write model.safetensors under transformers parameter names' },
    json: { type: 'boolean', description: 'print the manifest as JSON' },
  },
  examples: ['gemma-bench make-model --out ./tiny-model', 'gemma-bench make-model --out /tmp/m --seed 7 --hf-weights'],
};

export async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseCommand(command, argv);
  if (flag(values, 'help')) {
    process.stdout.write(helpText(command));
    return EXIT_OK;
  }
  const out = str(values, 'out');
  if (!out) throw new UsageError('--out DIR is required. Run `gemma-bench make-model --help`.');
  oneOf(values, 'size', ['tiny'] as const);
  const seed = num(values, 'seed', { integer: true, min: 0, max: 0xffffffff }) ?? 0;
  const json = flag(values, 'json');
  const manifest = await buildTinyModel(out, { seed, hfWeights: flag(values, 'hf-weights'), ...(json ? {} : { onProgress: (m: string) => process.stderr.write(`${m}\n`) }) });
  if (json) process.stdout.write(`${JSON.stringify(manifest)}\n`);
  else {
    process.stdout.write(`${manifest.label}\n${manifest.dir}\n`);
    for (const f of manifest.files) process.stdout.write(`  ${f.padEnd(28)} ${(manifest.bytesByFile[f] / 1e6).toFixed(1)} MB\n`);
    process.stdout.write(`built in ${(manifest.buildMs / 1000).toFixed(1)} s\n`);
  }
  return EXIT_OK;
}
