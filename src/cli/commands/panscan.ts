// `gemma-bench panscan IMAGE...`: run Gemma 3's exact preprocessing on images and show what the model would get
// (crop boxes, crops, image and prompt tokens, time), optionally writing the 896x896 entries and a crop grid.
import { mkdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { flag, helpText, num, parseCommand, str, UsageError, type CommandDef } from '../args.js';
import { EXIT_FAILED, EXIT_OK } from '../command.js';
import { loadPreset } from '../../config/load-preset.js';
import { resolvePreprocess } from '../../config/resolve-run-spec.js';
import { PREPROCESS_FIELDS } from '../../config/run-spec.js';
import { optionsOf, valuesOf } from '../run-flags.js';
import { ImageDecodeError } from '../../panscan/decode.js';
import { entryToRgb, preprocessFile, type PreprocessedImage, type PreprocessSettings } from '../../panscan/preprocess.js';
import { PixelBufferPool } from '../../panscan/pixel-buffers.js';
import { ResizePool } from '../../panscan/resize-pool.js';
import { gemmaTokenizer } from '../../panscan/tokenizer.js';
import { IMAGE_SIZE_PX, type CropBox } from '../../panscan/types.js';
import { panScanText } from '../../report/phrases.js';

export const command: CommandDef = {
  name: 'panscan',
  summary: "run Gemma 3's pan-and-scan preprocessing on images, exactly as Hugging Face transformers does",
  usage: 'IMAGE... [options]',
  details:
    'With neither --preset nor a knob, HF\'s defaults with pan-and-scan on are used (min ratio 1.2, max crops 4,\n' +
    'min crop size 256). Explicit knobs override the preset. preprocessMs covers reading, decoding, cropping,\n' +
    'resizing and normalizing the image into float32 tensors, plus tokenizing when --prompt is given.',
  options: {
    preset: { type: 'string', placeholder: 'NAME|FILE', description: 'take the pan-and-scan settings from a preset' },
    ...optionsOf(Object.values(PREPROCESS_FIELDS)),
    prompt: { type: 'string', placeholder: 'TEXT', description: 'also build the chat prompt and tokenize it (prompt tokens, input ids)' },
    out: { type: 'string', placeholder: 'DIR', description: 'write <stem>.0.png (whole image as the model sees it), <stem>.<i>.png per crop, <stem>.grid.png' },
    threads: { type: 'string', placeholder: 'N', description: `threads resizing entries in parallel (default ${availableParallelism()}, all cores)` },
    json: { type: 'boolean', description: 'print one JSON array, one object per image' },
  },
  examples: [
    'gemma-bench panscan receipt.png',
    'gemma-bench panscan docs/*.png --preset balanced --prompt "What is the total?" --json',
    'gemma-bench panscan page.jpg --max-crops 6 --out /tmp/crops',
  ],
};

interface ImageReport {
  image: string;
  width?: number;
  height?: number;
  numCrops?: number;
  crops?: { left: number; top: number; width: number; height: number }[];
  imageTokens?: number;
  promptTokens?: number;
  inputIds?: number[];
  preprocessMs?: number;
  error?: string;
}

export async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(command, argv);
  if (flag(values, 'help')) {
    process.stdout.write(helpText(command));
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError('give at least one image file. Run `gemma-bench panscan --help` for the options.');
  const presetName = str(values, 'preset');
  const resolved = resolvePreprocess(presetName ? loadPreset(presetName) : null, valuesOf(Object.values(PREPROCESS_FIELDS), values));
  const settings = resolved.settings;
  const threads = num(values, 'threads', { integer: true, min: 1, max: 256 }) ?? availableParallelism();
  const prompt = str(values, 'prompt');
  const outDir = str(values, 'out');
  const json = flag(values, 'json');
  // Files that are not there are a mistake in the command (exit 2), found before any work; images that are there
  // but cannot be decoded are reported one by one (exit 1).
  const absent = positionals.filter((f) => !statSync(f, { throwIfNoEntry: false })?.isFile());
  if (absent.length) {
    const why = (f: string) => (statSync(f, { throwIfNoEntry: false })?.isDirectory() ? 'is a directory, not an image file' : 'file not found');
    throw new UsageError(`${absent.map((f) => `${f}: ${why(f)}`).join('\n')}\ncheck the path${absent.length === 1 ? '' : 's'} and the current directory (a glob must match files).`);
  }
  if (outDir) mkdirSync(resolve(outDir), { recursive: true });

  // Start-up costs (tokenizer vocabulary, worker threads) are paid before timing so every image is measured alike.
  if (prompt !== undefined) gemmaTokenizer();
  const pool = threads > 1 ? await ResizePool.create(threads) : undefined;
  const buffers = new PixelBufferPool(pool !== undefined);
  const reports: ImageReport[] = [];
  const stems = new Map<string, number>();
  let failed = 0;
  let written = 0;
  try {
    if (!json) process.stdout.write(describeSettings(resolved.source, settings, threads));
    for (const file of positionals) {
      let report: ImageReport;
      try {
        const r = await preprocessFile(file, settings, { ...(prompt !== undefined ? { prompt } : {}), ...(pool ? { pool } : {}), buffers, keepDecoded: outDir !== undefined });
        report = toReport(file, r);
        if (outDir) written += await writeOutputs(resolve(outDir), uniqueStem(file, stems), r);
        buffers.release(r.pixelValues);
      } catch (err) {
        failed++;
        report = { image: file, error: errorText(file, err) };
        if (!json) process.stderr.write(`${report.error}\n`);
      }
      reports.push(report);
      if (!json && !report.error) process.stdout.write(formatReport(report));
    }
  } finally {
    await pool?.close();
  }
  if (json) process.stdout.write(`${JSON.stringify(reports)}\n`);
  else if (failed > 0) process.stderr.write(`${failed} of ${positionals.length} image(s) failed.\n`);
  if (outDir) process.stderr.write(`wrote ${written} file${written === 1 ? '' : 's'} to ${resolve(outDir)}\n`);
  return failed > 0 ? EXIT_FAILED : EXIT_OK;
}

function errorText(file: string, err: unknown): string {
  if (err instanceof ImageDecodeError) return err.message.startsWith(file) ? err.message : `${file}: ${err.message}`;
  return `${file}: ${(err as Error).message}`;
}

function toReport(file: string, r: PreprocessedImage): ImageReport {
  return {
    image: file,
    width: r.width,
    height: r.height,
    numCrops: r.numCrops,
    crops: r.crops.map((c) => ({ left: c.left, top: c.top, width: c.width, height: c.height })),
    imageTokens: r.imageTokens,
    ...(r.inputIds ? { promptTokens: r.inputIds.length, inputIds: r.inputIds } : {}),
    preprocessMs: round3(r.timings.totalMs),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function describeSettings(source: string, s: PreprocessSettings, threads: number): string {
  return `pan-and-scan ${panScanText(s.panScan, 'long')} (${source}); EXIF orientation ${s.exifOrientation}; ${threads} thread${threads === 1 ? '' : 's'}\n`;
}

function formatReport(r: ImageReport): string {
  const boxes = (r.crops ?? []).map((c) => `(${c.left},${c.top} ${c.width}x${c.height})`).join(' ');
  const lines = [
    `${r.image}`,
    `  size ${r.width}x${r.height}  crops ${r.numCrops}${boxes ? `  ${boxes}` : ''}`,
    `  image tokens ${r.imageTokens}${r.promptTokens !== undefined ? `  prompt tokens ${r.promptTokens}` : ''}  preprocess ${r.preprocessMs?.toFixed(1)} ms`,
  ];
  return lines.join('\n') + '\n';
}

function uniqueStem(file: string, seen: Map<string, number>): string {
  const stem = basename(file, extname(file));
  const n = (seen.get(stem) ?? 0) + 1;
  seen.set(stem, n);
  return n === 1 ? stem : `${stem}-${n}`;
}

/** Writes the entries and the grid; returns how many files. */
async function writeOutputs(dir: string, stem: string, r: PreprocessedImage): Promise<number> {
  const entries = 1 + r.numCrops;
  for (let i = 0; i < entries; i++) {
    const rgb = entryToRgb(r.pixelValues, i);
    await sharp(rgb, { raw: { width: IMAGE_SIZE_PX, height: IMAGE_SIZE_PX, channels: 3 } }).png().toFile(join(dir, `${stem}.${i}.png`));
  }
  if (!r.decoded) return entries;
  await writeGrid(join(dir, `${stem}.grid.png`), r.decoded.data, r.width, r.height, r.crops);
  return entries + 1;
}

/** The original with each crop's box outlined and numbered, so a user sees where pan-and-scan cut. */
async function writeGrid(file: string, rgb: Uint8Array, width: number, height: number, crops: readonly CropBox[]): Promise<void> {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const font = Math.max(12, Math.round(Math.min(width, height) / 12));
  const colours = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324', '#800000', '#000075'];
  const shapes = crops
    .map((c, i) => {
      const col = colours[i % colours.length];
      const inset = stroke / 2;
      return (
        `<rect x="${c.left + inset}" y="${c.top + inset}" width="${Math.max(0, c.width - stroke)}" height="${Math.max(0, c.height - stroke)}" fill="none" stroke="${col}" stroke-width="${stroke}"/>` +
        `<text x="${c.left + stroke * 3}" y="${c.top + stroke * 3 + font}" font-family="sans-serif" font-size="${font}" fill="${col}">${i + 1}</text>`
      );
    })
    .join('');
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes}</svg>`);
  await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 }, limitInputPixels: false })
    // The overlay is as large as the image: the pixel limit the user chose (--pixel-limit) already admitted it, so
    // sharp's own default limit (268 Mpx) must not refuse it again.
    .composite([{ input: svg, top: 0, left: 0, limitInputPixels: false }])
    .png()
    .toFile(file);
}
