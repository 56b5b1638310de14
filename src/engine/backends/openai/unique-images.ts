// The images requests send, prepared before the run so that no decoding or encoding happens on a request's clock.
// Unique images by default: vLLM caches processed images (--mm-processor-cache-gb) and prefix blocks keyed by the
// image's hash, so sending the same image twice measures the cache, not the model. Variant k of a source (k >= 1)
// is the source's decoded pixels with the low bit of one byte flipped (channel 0 of pixel k-1, a different pixel for
// every variant), re-encoded losslessly as PNG with sharp: it differs from the source in exactly one bit and from
// every other variant of that source in exactly two. Each variant is written to a temporary file as the base64 text
// of its PNG, so the HTTP client copies bytes into the body without encoding anything; memory stays bounded by the
// encoder concurrency (one decoded source plus one working copy per concurrent encode), never by the request count.
// With unique images off, each source's own file bytes are sent, once encoded the same way.
import 'sharp'; // load sharp on the main thread before anything else may use it from workers
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';

export const DEFAULT_ENCODE_CONCURRENCY = 4;
/** zlib level for variants (bench/unique-images.ts, synthetic set, 1000 requests: level 6 is 1.3x slower to prepare than 1 and sends 2.3x fewer bytes). */
export const DEFAULT_PNG_COMPRESSION_LEVEL = 6;

const MIME_OF_FORMAT: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  heif: 'image/heif',
  avif: 'image/avif',
  svg: 'image/svg+xml',
};

export interface ImageStoreOptions {
  /** Every image path requests may name. */
  readonly sources: readonly string[];
  /** Flip one bit per request (default true). */
  readonly unique: boolean;
  /** Variants prepared per source (unique mode): the requests expected to use that source. */
  readonly variantsPerImage: number | ((path: string) => number);
  readonly dir?: string;
  readonly concurrency?: number;
  readonly compressionLevel?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface PreparedImage {
  /** base64 text of the image file, as ASCII bytes: goes into the data: URL unchanged. */
  readonly base64: Buffer;
  readonly mime: string;
  /** Which variant (1-based) this request got; null when unique images are off. */
  readonly variant: number | null;
  /** Set when this request repeats an image another request already sent (variants ran out). */
  readonly repeated: boolean;
}

interface SourceEntry {
  readonly path: string;
  readonly files: string[];
  readonly mime: string;
  readonly unique: boolean;
  next: number;
  warned: boolean;
}

export interface ImageStoreStats {
  readonly prepareMs: number;
  readonly files: number;
  readonly base64Bytes: number;
  /** Largest resident set size seen while preparing (sampled after every encode). */
  readonly peakRssMiB: number;
}

/** The byte index whose low bit variant k flips (channel 0 of pixel k-1). */
export function variantByteIndex(k: number, channels: number): number {
  return (k - 1) * channels;
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    for (;;) {
      const at = i++;
      if (at >= items.length) return;
      await fn(items[at], at);
    }
  });
  await Promise.all(workers);
}

export class ImageStore {
  private constructor(
    private readonly dir: string,
    private readonly entries: Map<string, SourceEntry>,
    readonly stats: ImageStoreStats,
    private readonly log?: ImageStoreOptions['log'],
  ) {}

  /** Encodes everything up front; throws (with the file named) if a source cannot be decoded. */
  static async prepare(opts: ImageStoreOptions): Promise<ImageStore> {
    const t0 = performance.now();
    const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'gemma-bench-images-')));
    const conc = opts.concurrency ?? DEFAULT_ENCODE_CONCURRENCY;
    const level = opts.compressionLevel ?? DEFAULT_PNG_COMPRESSION_LEVEL;
    const entries = new Map<string, SourceEntry>();
    let files = 0;
    let bytes = 0;
    let peakRss = process.memoryUsage().rss;
    const sampleRss = () => {
      const r = process.memoryUsage().rss;
      if (r > peakRss) peakRss = r;
    };
    const unique = [...new Set(opts.sources)];
    try {
      for (let s = 0; s < unique.length; s++) {
        const path = unique[s];
        if (!opts.unique) {
          const buf = await readFile(path);
          const meta = await sharp(buf).metadata().catch((e: Error) => {
            throw new Error(`cannot read image ${path}: ${e.message}`);
          });
          const mime = MIME_OF_FORMAT[meta.format ?? ''] ?? 'application/octet-stream';
          const file = join(dir, `s${s}.b64`);
          const b64 = buf.toString('base64');
          await writeFile(file, b64);
          files++;
          bytes += b64.length;
          entries.set(path, { path, files: [file], mime, unique: false, next: 0, warned: false });
          continue;
        }
        const want = typeof opts.variantsPerImage === 'function' ? opts.variantsPerImage(path) : opts.variantsPerImage;
        const count = Math.max(1, Math.floor(want));
        const { data, info } = await sharp(path, { limitInputPixels: false })
          .raw()
          .toBuffer({ resolveWithObject: true })
          .catch((e: Error) => {
            throw new Error(`cannot decode image ${path}: ${e.message}`);
          });
        sampleRss();
        const pixels = info.width * info.height;
        if (count > pixels) throw new Error(`image ${path} has ${pixels} pixels, too few for ${count} one-pixel variants`);
        const names = Array.from({ length: count }, (_, k) => join(dir, `s${s}-v${k + 1}.b64`));
        await pool(names, conc, async (file, k) => {
          const copy = Buffer.from(data);
          copy[variantByteIndex(k + 1, info.channels)] ^= 1;
          const png = await sharp(copy, { raw: { width: info.width, height: info.height, channels: info.channels } })
            .png({ compressionLevel: level, adaptiveFiltering: false })
            .toBuffer();
          const b64 = png.toString('base64');
          await writeFile(file, b64);
          files++;
          bytes += b64.length;
          sampleRss();
        });
        entries.set(path, { path, files: names, mime: 'image/png', unique: true, next: 0, warned: false });
      }
    } catch (e) {
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
      throw e;
    }
    sampleRss();
    const stats: ImageStoreStats = { prepareMs: performance.now() - t0, files, base64Bytes: bytes, peakRssMiB: Math.round(peakRss / 1048576) };
    return new ImageStore(dir, entries, stats, opts.log);
  }

  /** Whether the store knows this source. */
  has(path: string): boolean {
    return this.entries.has(path);
  }

  /** The next image for a request naming `path`: its own variant, read from disk (not yet on the request's clock). */
  async take(path: string): Promise<PreparedImage> {
    const e = this.entries.get(path);
    if (!e) throw new Error(`image ${path} was not prepared before the run`);
    if (!e.unique) return { base64: await readFile(e.files[0]), mime: e.mime, variant: null, repeated: false };
    const i = e.next++;
    const repeated = i >= e.files.length;
    if (repeated && !e.warned) {
      e.warned = true;
      this.log?.('warn', `unique images: all ${e.files.length} variant(s) of ${path} are used; further requests repeat them and may hit the server's image cache`);
    }
    const base64 = await readFile(e.files[i % e.files.length]);
    return { base64, mime: e.mime, variant: (i % e.files.length) + 1, repeated };
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
