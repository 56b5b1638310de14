// Image decoding for pan-and-scan: owns turning a user's image file into tightly packed 8-bit RGB exactly as
// HF's processor sees it after PIL's `image.convert("RGB")` (panscan-spec.md §2.5 steps 1-2), and owns the
// clear, specific errors for bad input (DESIGN.md §9). Decoding uses sharp (libvips); its resizer is never used.
//
// How each source mode reaches RGB, and how it relates to Pillow 9.4 (each verified byte-exact against Pillow by
// test/fixtures/decode/make.py, unless marked otherwise):
//  - 8-bit RGB, gray, palette: as stored; gray is replicated into R=G=B; palette entries are looked up.
//  - Alpha (RGBA, gray+alpha, palette with tRNS): dropped, never composited, like Pillow's convert("RGB").
//  - GIF with transparency: Pillow keeps the transparent *palette index*, so convert("RGB") shows that palette
//    entry's colour; libvips gives (0,0,0,0) there. We read frame 0's palette and transparent index from the GIF
//    and put that colour back where alpha is 0.
//  - GIF whose first frame is smaller than its logical screen: Pillow fills the uncovered area with palette
//    index 0 (or the transparent index); libvips leaves black there when the GIF has no transparency, so we
//    fill it with Pillow's colour.
//  - CMYK (JPEG, TIFF): libvips gives the raw channels already in Pillow's polarity (Adobe-inverted for JPEG);
//    we then apply Pillow's own Convert.c cmyk2rgb formula, never an ICC transform.
//  - Embedded ICC profiles: ignored (`ignoreIcc`), as Pillow's convert("RGB") ignores them.
//  - 16-bit (PNG, TIFF): the high byte (v >> 8). That is what Pillow does for 16-bit RGB(A) and 16-bit gray+alpha
//    PNGs. For 16-bit gray, Pillow opens mode "I"/"I;16" and convert("RGB") clips every value above 255 to white,
//    which destroys the image; we deliberately do NOT copy that and take the high byte like the other 16-bit modes.
//  - EXIF orientation: ignored by default (HF given an opened PIL image does not transpose); 'apply' matches
//    PIL.ImageOps.exif_transpose (all 8 orientations verified). XMP-only orientation, which Pillow also reads, is not.
//  - Multi-frame (GIF, animated WebP, multi-page TIFF): the first frame only, like Image.open().
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { DEFAULT_PIXEL_LIMIT } from './types.js';

export type ExifOrientation = 'ignore' | 'apply';

export interface DecodeOptions {
  /** 'ignore' (default) keeps the stored pixel order; 'apply' rotates/flips like PIL.ImageOps.exif_transpose. */
  exifOrientation?: ExifOrientation;
  /** Refuse images with more than this many pixels (width*height); default DEFAULT_PIXEL_LIMIT, like Pillow. Infinity: no limit. */
  pixelLimit?: number;
  /** Allocate the RGB data on a SharedArrayBuffer so worker threads can read it without copies. */
  shared?: boolean;
  /**
   * Called with the output size (after EXIF orientation, when applied) once the header is read and the pixel
   * decode is under way on sharp's thread, so the caller's own work (crop plan, tokenizing) overlaps decoding.
   */
  onHeader?: (width: number, height: number) => void;
}

export interface DecodedImage {
  /** Tightly packed HWC RGB, width*height*3 bytes. */
  data: Uint8Array;
  width: number;
  height: number;
  /** Container format as sharp names it: png | jpeg | webp | tiff | gif | avif | heif. */
  format: string;
  /** What was stored: rgb | rgba | gray | gray+alpha | palette | cmyk | rgb16 | rgba16 | gray16 | gray16+alpha | other libvips space. */
  sourceMode: string;
}

/**
 * Why a file could not be decoded, short and stable so callers can switch on it:
 * missing (no such file), directory, unreadable (permissions, I/O, not a regular file, too big to read),
 * empty (0 bytes), not-an-image (text, HTML, unknown bytes), unsupported (a real image format we cannot decode),
 * truncated (the file ends early), corrupt (the decoder rejected the data), too-many-pixels (over the pixel limit).
 */
export type ImageDecodeFailure =
  | 'missing'
  | 'directory'
  | 'unreadable'
  | 'empty'
  | 'not-an-image'
  | 'unsupported'
  | 'truncated'
  | 'corrupt'
  | 'too-many-pixels';

/** A bad input image. The message names the file, the problem and what to do: `a.png: truncated PNG (...): re-export ...`. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
  readonly file?: string;
  readonly reason: ImageDecodeFailure;

  constructor(file: string | undefined, reason: ImageDecodeFailure, problem: string, remedy: string, cause?: unknown) {
    super(`${file ?? '(image data)'}: ${problem}: ${remedy}`, cause === undefined ? undefined : { cause });
    if (file !== undefined) this.file = file;
    this.reason = reason;
  }
}

/** Formats we decode. Pillow 9.4 opens all but AVIF; AVIF is accepted because sharp decodes it and newer Pillow does too. */
const DECODABLE_FORMATS = new Set(['png', 'jpeg', 'webp', 'tiff', 'gif', 'heif']);
const SUPPORTED_LIST = 'PNG, JPEG, WebP, TIFF, GIF or AVIF';
const REDOWNLOAD = 're-export or re-download it';
/** How many leading bytes we look at to tell text from binary. */
const SNIFF_BYTES = 512;

/**
 * Reads a whole image file, turning file-system failures into ImageDecodeError (missing, directory,
 * permissions, not a regular file, zero bytes).
 */
export async function readImageFile(path: string): Promise<Buffer> {
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) {
      throw new ImageDecodeError(path, 'directory', 'is a directory, not an image file', "pass an image file, or a glob such as 'dir/*.png'");
    }
    // A FIFO or device would block or never end; only regular files are images.
    if (!st.isFile()) {
      throw new ImageDecodeError(path, 'unreadable', 'not a regular file (a device, socket or pipe)', 'pass an image file');
    }
    size = st.size;
  } catch (err) {
    throw fsError(path, err);
  }
  if (size === 0) throw emptyError(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw fsError(path, err);
  }
  if (bytes.length === 0) throw emptyError(path);
  return bytes;
}

/** Reads and decodes an image file; every failure is an ImageDecodeError naming `path`. */
export async function decodeImageFile(path: string, opts?: DecodeOptions): Promise<DecodedImage> {
  return decodeImage(await readImageFile(path), opts, path);
}

/**
 * Decodes encoded image bytes to 8-bit RGB as PIL's convert("RGB") would (see the module header).
 * The header is read first, so an image over the pixel limit is refused before any pixel is decoded.
 * `file` only labels error messages.
 */
export async function decodeImage(bytes: Buffer, opts: DecodeOptions = {}, file?: string): Promise<DecodedImage> {
  const exifOrientation = opts.exifOrientation ?? 'ignore';
  if (exifOrientation !== 'ignore' && exifOrientation !== 'apply') {
    throw new TypeError(`exifOrientation must be 'ignore' or 'apply' (got ${String(exifOrientation)})`);
  }
  const pixelLimit = opts.pixelLimit ?? DEFAULT_PIXEL_LIMIT;
  if (!(pixelLimit === Infinity || (Number.isSafeInteger(pixelLimit) && pixelLimit > 0))) {
    throw new RangeError(`pixelLimit must be a positive integer or Infinity (got ${pixelLimit})`);
  }
  if (bytes.length === 0) throw emptyError(file);

  const sniffed = sniff(bytes);
  if (sniffed.kind === 'unsupported') throw unsupportedError(file, sniffed.label);

  const image = sharp(bytes, {
    // Pillow fails on truncated and broken data but decodes through libjpeg *warnings* (e.g. extraneous bytes
    // before a marker), so fail on errors only, not on warnings.
    failOn: 'error',
    // Header-checked again by libvips, as a second guard behind the metadata check below.
    limitInputPixels: pixelLimit === Infinity ? false : pixelLimit,
    ignoreIcc: true,
    autoOrient: exifOrientation === 'apply',
    sequentialRead: true,
  });

  let meta: Metadata;
  try {
    meta = await image.metadata();
  } catch (err) {
    if (isPixelLimitError(err)) {
      // sharp applies limitInputPixels to the header read too; read it again unlimited (still header only) to say how big.
      const size = await sharp(bytes, { limitInputPixels: false }).metadata().catch(() => undefined);
      if (size) throw tooManyPixelsError(file, size.width, size.height, pixelLimit, err);
    }
    throw decoderError(file, bytes, sniffed, err);
  }
  if (!DECODABLE_FORMATS.has(meta.format)) throw unsupportedError(file, formatLabel(meta.format));
  if (meta.format === 'heif' && meta.compression === 'hevc') throw unsupportedError(file, 'HEIC (HEVC-coded HEIF)');
  if (meta.width * meta.height > pixelLimit) throw tooManyPixelsError(file, meta.width, meta.height, pixelLimit);

  const format = meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : meta.format;
  const sourceMode = describeMode(meta);
  try {
    if (meta.space === 'cmyk' || (meta.format === 'gif' && meta.hasAlpha)) opts.onHeader?.(...orientedSize(meta, exifOrientation));
    if (meta.space === 'cmyk') return await decodeCmyk(image, meta, opts.shared === true, format, sourceMode);
    if (meta.format === 'gif' && meta.hasAlpha) return await decodeGifWithAlpha(image, bytes, opts.shared === true, sourceMode);
    const pending = image.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    try {
      opts.onHeader?.(...orientedSize(meta, exifOrientation));
    } catch (err) {
      await pending.catch(() => undefined);
      throw err;
    }
    const { data, info } = await pending;
    checkShape(info, 3);
    if (meta.format === 'gif') fillOutsideGifFrame(data, info.width, info.height, bytes);
    return { data: opts.shared === true ? copyToShared(data) : data, width: info.width, height: info.height, format, sourceMode };
  } catch (err) {
    if (err instanceof ImageDecodeError || err instanceof SharpContractError) throw err;
    throw decoderError(file, bytes, sniffed, err);
  }
}

/** What an image's header says, read without decoding any pixel. */
export interface ImageHeader {
  /** The decoded size (after EXIF orientation, when applied). */
  readonly width: number;
  readonly height: number;
  readonly format: string;
}

/**
 * Reads only the header of encoded image bytes, with the same checks and the same messages as decodeImage
 * (empty, not an image, unsupported, corrupt header, over the pixel limit), so an image refused up front is
 * described exactly as a request on it would be. A truncated body is only found by decoding it.
 */
export async function readImageHeader(bytes: Buffer, opts: Pick<DecodeOptions, 'exifOrientation' | 'pixelLimit'> = {}, file?: string): Promise<ImageHeader> {
  const exifOrientation = opts.exifOrientation ?? 'ignore';
  const pixelLimit = opts.pixelLimit ?? DEFAULT_PIXEL_LIMIT;
  if (bytes.length === 0) throw emptyError(file);
  const sniffed = sniff(bytes);
  if (sniffed.kind === 'unsupported') throw unsupportedError(file, sniffed.label);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw decoderError(file, bytes, sniffed, err);
  }
  if (!DECODABLE_FORMATS.has(meta.format)) throw unsupportedError(file, formatLabel(meta.format));
  if (meta.format === 'heif' && meta.compression === 'hevc') throw unsupportedError(file, 'HEIC (HEVC-coded HEIF)');
  if (!meta.width || !meta.height) throw new ImageDecodeError(file, 'corrupt', 'no image size in the header', REDOWNLOAD);
  if (meta.width * meta.height > pixelLimit) throw tooManyPixelsError(file, meta.width, meta.height, pixelLimit);
  const [width, height] = orientedSize(meta, exifOrientation);
  return { width, height, format: meta.format };
}

/** The decoded size: orientations 5-8 swap width and height when EXIF orientation is applied. */
function orientedSize(meta: Metadata, exif: ExifOrientation): [number, number] {
  return exif === 'apply' && (meta.orientation ?? 1) >= 5 ? [meta.height, meta.width] : [meta.width, meta.height];
}

// ---- mode-specific paths -----------------------------------------------------------------------------------

/**
 * CMYK -> RGB with Pillow 9.4's Convert.c cmyk2rgb (checked exhaustively against Pillow over all C and K):
 *   nk = 255 - K;  R = nk - MULDIV255(C, nk)  where MULDIV255(a, b) = ((t >> 8) + t) >> 8, t = a*b + 128
 * The pipeline stays in CMYK so sharp applies no ICC transform (by default it converts CMYK through a profile).
 */
async function decodeCmyk(image: Sharp, meta: Metadata, shared: boolean, format: string, sourceMode: string): Promise<DecodedImage> {
  const deep = meta.depth === 'ushort';
  const { data, info } = await image
    .pipelineColourspace('cmyk')
    .removeAlpha()
    .toColourspace('cmyk')
    .raw(deep ? { depth: 'ushort' } : undefined)
    .toBuffer({ resolveWithObject: true });
  checkShape(info, 4, deep ? 2 : 1);
  const lut = cmykLut();
  const out = allocate(info.width * info.height * 3, shared);
  // 16-bit CMYK takes the high byte, as for 16-bit RGB (not verified against Pillow: it cannot write such a file).
  const src = deep ? new Uint16Array(data.buffer, data.byteOffset, data.length >> 1) : data;
  const shift = deep ? 8 : 0;
  for (let i = 0, o = 0; o < out.length; i += 4, o += 3) {
    const kRow = (src[i + 3] >> shift) << 8;
    out[o] = lut[kRow | (src[i] >> shift)];
    out[o + 1] = lut[kRow | (src[i + 1] >> shift)];
    out[o + 2] = lut[kRow | (src[i + 2] >> shift)];
  }
  return { data: out, width: info.width, height: info.height, format, sourceMode };
}

let cmykLutCache: Uint8Array | undefined;
/** 64 KiB table indexed by (K << 8) | C giving the RGB channel value. */
function cmykLut(): Uint8Array {
  if (cmykLutCache) return cmykLutCache;
  const lut = new Uint8Array(65536);
  for (let k = 0; k < 256; k++) {
    const nk = 255 - k;
    for (let c = 0; c < 256; c++) {
      const t = c * nk + 128;
      lut[(k << 8) | c] = nk - (((t >> 8) + t) >> 8); // never below 0 for 8-bit inputs, so no clip needed
    }
  }
  return (cmykLutCache = lut);
}

/** GIF with transparency: drop alpha, but show the transparent palette entry's colour as Pillow does (see header). */
async function decodeGifWithAlpha(image: Sharp, bytes: Buffer, shared: boolean, sourceMode: string): Promise<DecodedImage> {
  const { data, info } = await image.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  checkShape(info, 4);
  const [fr, fg, fb] = gifFirstFrame(bytes).fill;
  const out = allocate(info.width * info.height * 3, shared);
  for (let i = 0, o = 0; o < out.length; i += 4, o += 3) {
    const opaque = data[i + 3] !== 0;
    out[o] = opaque ? data[i] : fr;
    out[o + 1] = opaque ? data[i + 1] : fg;
    out[o + 2] = opaque ? data[i + 2] : fb;
  }
  return { data: out, width: info.width, height: info.height, format: 'gif', sourceMode };
}

interface GifFirstFrame {
  /** The colour Pillow shows for frame 0's transparent pixels and for the screen outside frame 0. */
  readonly fill: [number, number, number];
  /** Frame 0's rectangle on the logical screen: left, top, width, height (undefined when unreadable). */
  readonly rect?: readonly [number, number, number, number];
}

/**
 * Frame 0 of a GIF as Pillow 9.4 composes it: the fill is entry `transparency` of frame 0's palette (local
 * colour table, else global), or entry 0 without a transparency index, and it covers the screen outside the
 * frame. Pillow's palettes start as a gray ramp, so an index past the end of a short table reads as (i, i, i).
 */
function gifFirstFrame(b: Buffer): GifFirstFrame {
  let pos = 13;
  let rect: GifFirstFrame['rect'];
  let palette: [number, number] | undefined; // [start, end) byte offsets
  let transparent: number | undefined;
  if (b.length >= 13 && (b[10] & 0x80) !== 0) {
    const size = 3 << ((b[10] & 7) + 1);
    palette = [13, 13 + size];
    pos += size;
  }
  while (pos < b.length) {
    const block = b[pos];
    if (block === 0x21) {
      const label = b[pos + 1];
      pos += 2;
      // Graphic control extension: its packed byte's bit 0 says the following index is transparent.
      if (label === 0xf9 && b[pos] >= 4 && pos + 4 < b.length) transparent = (b[pos + 1] & 1) !== 0 ? b[pos + 4] : undefined;
      while (pos < b.length && b[pos] !== 0) pos += b[pos] + 1; // data sub-blocks
      pos += 1;
    } else if (block === 0x2c) {
      if (pos + 9 < b.length) rect = [b.readUInt16LE(pos + 1), b.readUInt16LE(pos + 3), b.readUInt16LE(pos + 5), b.readUInt16LE(pos + 7)];
      const packed = b[pos + 9];
      if ((packed & 0x80) !== 0) palette = [pos + 10, pos + 10 + (3 << ((packed & 7) + 1))];
      break;
    } else {
      break;
    }
  }
  const index = transparent ?? 0;
  const at = palette ? palette[0] + 3 * index : -1;
  const fill: [number, number, number] = palette && at + 2 < palette[1] && at + 2 < b.length ? [b[at], b[at + 1], b[at + 2]] : [index, index, index];
  return rect ? { fill, rect } : { fill };
}

/** Paints the screen outside frame 0 (RGB, in place) with Pillow's fill, when the frame does not cover it. */
function fillOutsideGifFrame(rgb: Uint8Array, width: number, height: number, bytes: Buffer): void {
  const { fill, rect } = gifFirstFrame(bytes);
  if (!rect) return;
  const x0 = Math.min(rect[0], width);
  const y0 = Math.min(rect[1], height);
  const x1 = Math.min(rect[0] + rect[2], width);
  const y1 = Math.min(rect[1] + rect[3], height);
  if (x0 === 0 && y0 === 0 && x1 === width && y1 === height) return;
  for (let y = 0; y < height; y++) {
    const inside = y >= y0 && y < y1;
    for (let x = 0; x < width; x++) {
      if (inside && x >= x0 && x < x1) continue;
      const o = (y * width + x) * 3;
      rgb[o] = fill[0];
      rgb[o + 1] = fill[1];
      rgb[o + 2] = fill[2];
    }
  }
}

// ---- helpers -----------------------------------------------------------------------------------------------

function describeMode(meta: Metadata): string {
  if (meta.space === 'cmyk') return 'cmyk';
  if (meta.isPalette) return 'palette';
  const alpha = meta.hasAlpha;
  switch (meta.space) {
    case 'srgb':
    case 'rgb':
      return alpha ? 'rgba' : 'rgb';
    case 'rgb16':
      return alpha ? 'rgba16' : 'rgb16';
    case 'b-w':
      return alpha ? 'gray+alpha' : 'gray';
    case 'grey16':
      return alpha ? 'gray16+alpha' : 'gray16';
    default:
      return meta.depth === 'uchar' ? meta.space : `${meta.space}/${meta.depth}`;
  }
}

/** sharp handed back something other than what we asked for: a library change, not bad input, so never an ImageDecodeError. */
class SharpContractError extends Error {
  override name = 'SharpContractError';
}

function checkShape(info: OutputInfo, channels: number, bytesPerSample = 1): void {
  if (info.channels !== channels || info.size !== info.width * info.height * channels * bytesPerSample) {
    // Fail loudly rather than hand back misaligned pixels.
    throw new SharpContractError(`sharp returned ${info.width}x${info.height}x${info.channels} (${info.size} bytes), expected ${channels} channels`);
  }
}

function allocate(length: number, shared: boolean): Uint8Array {
  return shared ? new Uint8Array(new SharedArrayBuffer(length)) : new Uint8Array(length);
}

/** sharp cannot write into caller memory, so shared output costs exactly one copy. */
function copyToShared(data: Buffer): Uint8Array {
  const out = allocate(data.length, true);
  out.set(data);
  return out;
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function isPixelLimitError(err: unknown): boolean {
  return err instanceof Error && /exceeds pixel limit/i.test(err.message);
}

function tooManyPixelsError(file: string | undefined, width: number, height: number, limit: number, cause?: unknown): ImageDecodeError {
  const pixels = width * height;
  return new ImageDecodeError(
    file,
    'too-many-pixels',
    `${width}x${height} = ${fmtInt(pixels)} pixels is over the limit of ${fmtInt(limit)} ` +
      "(a guard against decompression bombs, like Pillow's MAX_IMAGE_PIXELS)",
    `if the image is genuine, raise the limit with --pixel-limit N (N >= ${pixels})`,
    cause,
  );
}

function emptyError(file: string | undefined): ImageDecodeError {
  return new ImageDecodeError(file, 'empty', 'empty file (0 bytes)', REDOWNLOAD);
}

function unsupportedError(file: string | undefined, label: string): ImageDecodeError {
  return new ImageDecodeError(file, 'unsupported', `unsupported image format (${label})`, `convert it to ${SUPPORTED_LIST}`);
}

function fsError(path: string, err: unknown): ImageDecodeError {
  if (err instanceof ImageDecodeError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new ImageDecodeError(path, 'missing', 'file not found', 'check the path and the current directory', err);
    case 'EISDIR':
      return new ImageDecodeError(path, 'directory', 'is a directory, not an image file', "pass an image file, or a glob such as 'dir/*.png'", err);
    case 'EACCES':
    case 'EPERM':
      return new ImageDecodeError(path, 'unreadable', 'permission denied', "check the file's permissions", err);
    case 'ERR_FS_FILE_TOO_LARGE':
      return new ImageDecodeError(path, 'unreadable', 'file too large to read (over 2 GiB)', 'use a smaller image', err);
    default: {
      const what = err instanceof Error ? err.message : String(err);
      return new ImageDecodeError(path, 'unreadable', `cannot read the file (${what})`, 'check the path and the disk', err);
    }
  }
}

const FORMAT_LABELS: Record<string, string> = {
  png: 'PNG', jpeg: 'JPEG', webp: 'WebP', tiff: 'TIFF', gif: 'GIF', heif: 'HEIF/AVIF', svg: 'SVG', pdf: 'PDF',
  ppm: 'PPM/PGM/PBM', jp2: 'JPEG 2000', jxl: 'JPEG XL', fits: 'FITS', rad: 'Radiance HDR', vips: 'VIPS',
  magick: 'ImageMagick', openslide: 'OpenSlide', dcraw: 'camera raw', raw: 'raw pixels',
};
function formatLabel(format: string): string {
  return FORMAT_LABELS[format] ?? format;
}

type SniffedFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'tiff' | 'heif';
type Sniffed =
  | { kind: 'image'; format: SniffedFormat; label: string }
  | { kind: 'unsupported'; label: string }
  | { kind: 'unknown' };

const ascii = (b: Buffer, start: number, end: number): string => b.toString('latin1', start, Math.min(end, b.length));

/** Recognises a format by its leading bytes, to tell truncated images from non-images and to name unsupported ones. */
function sniff(b: Buffer): Sniffed {
  const head4 = ascii(b, 0, 4);
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) return { kind: 'image', format: 'png', label: 'PNG' };
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: 'image', format: 'jpeg', label: 'JPEG' };
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return { kind: 'image', format: 'gif', label: 'GIF' };
  if (head4 === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return { kind: 'image', format: 'webp', label: 'WebP' };
  if (head4 === 'II*\0' || head4 === 'MM\0*' || head4 === 'II+\0' || head4 === 'MM\0+') return { kind: 'image', format: 'tiff', label: 'TIFF' };
  if (ascii(b, 4, 8) === 'ftyp') {
    const brand = ascii(b, 8, 12);
    if (brand === 'avif' || brand === 'avis') return { kind: 'image', format: 'heif', label: 'AVIF' };
    if (/^(heic|heix|hevc|hevx|heim|heis)$/.test(brand)) return { kind: 'unsupported', label: 'HEIC (HEVC-coded HEIF)' };
    if (brand === 'mif1' || brand === 'msf1') return { kind: 'image', format: 'heif', label: 'HEIF' };
    if (brand === 'jp2 ' || brand === 'jpx ') return { kind: 'unsupported', label: 'JPEG 2000' };
  }
  if (b.length >= 12 && b.readUInt32BE(0) === 0x0c && ascii(b, 4, 8) === 'jP  ') return { kind: 'unsupported', label: 'JPEG 2000' };
  if (b.length >= 4 && b.readUInt32BE(0) === 0xff4fff51) return { kind: 'unsupported', label: 'JPEG 2000' };
  if ((b[0] === 0xff && b[1] === 0x0a) || (b.length >= 12 && b.readUInt32BE(0) === 0x0c && ascii(b, 4, 8) === 'JXL ')) {
    return { kind: 'unsupported', label: 'JPEG XL' };
  }
  if (head4.startsWith('BM') && b.length >= 26 && b.readUInt32LE(14) >= 12 && b.readUInt32LE(14) <= 124) return { kind: 'unsupported', label: 'BMP' };
  if (b.length >= 6 && b.readUInt16LE(0) === 0 && (b.readUInt16LE(2) === 1 || b.readUInt16LE(2) === 2) && b.readUInt16LE(4) > 0) {
    return { kind: 'unsupported', label: b.readUInt16LE(2) === 1 ? 'ICO' : 'CUR' };
  }
  if (head4 === '8BPS') return { kind: 'unsupported', label: 'PSD' };
  if (head4 === 'qoif') return { kind: 'unsupported', label: 'QOI' };
  if (head4 === 'DDS ') return { kind: 'unsupported', label: 'DDS' };
  if (head4 === 'v/1\x01') return { kind: 'unsupported', label: 'OpenEXR' };
  if (head4 === '%PDF') return { kind: 'unsupported', label: 'PDF' };
  if (/^P[1-7]\s/.test(ascii(b, 0, 3))) return { kind: 'unsupported', label: 'PPM/PGM/PBM' };
  if (/^#\?(RADIANCE|RGBE)/.test(ascii(b, 0, 12))) return { kind: 'unsupported', label: 'Radiance HDR' };
  if (ascii(b, 0, 9) === 'SIMPLE  =') return { kind: 'unsupported', label: 'FITS' };
  if (/<svg[\s>]/i.test(ascii(b, 0, 4096)) && !/<html[\s>]/i.test(ascii(b, 0, 4096))) return { kind: 'unsupported', label: 'SVG, a vector format' };
  return { kind: 'unknown' };
}

/** Describes bytes that are no image we know, e.g. "plain text" or "an HTML page". */
function describeNonImage(b: Buffer): string {
  const head = b.subarray(0, SNIFF_BYTES);
  let binary = 0;
  for (const c of head) if (c === 0 || (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12)) binary++;
  if (binary > head.length / 50) {
    return `unknown binary data, starting with bytes ${[...b.subarray(0, 8)].map((c) => c.toString(16).padStart(2, '0')).join(' ')}`;
  }
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (/^(<!doctype html|<html|<head|<body)/i.test(text)) return 'an HTML page, perhaps an error page saved by a failed download';
  if (/^[[{]/.test(text)) return 'JSON text';
  if (/^<\?xml|^</.test(text)) return 'XML text';
  const firstLine = text.split(/\r?\n/, 1)[0].slice(0, 40);
  return `plain text, starting "${firstLine}"`;
}

/** Turns a sharp/libvips failure into a specific ImageDecodeError. */
function decoderError(file: string | undefined, bytes: Buffer, sniffed: Sniffed, err: unknown): ImageDecodeError {
  const detail = (err instanceof Error ? err.message : String(err)).split('\n').map((s) => s.trim()).filter(Boolean);
  const message = detail.join(' / ');
  if (isPixelLimitError(err)) {
    // Only reachable if the decoder saw other dimensions than the header read did.
    return new ImageDecodeError(file, 'too-many-pixels', `over the pixel limit (${detail[0]})`, 'raise it with --pixel-limit N if the image is genuine', err);
  }
  if (sniffed.kind === 'unsupported') return unsupportedError(file, sniffed.label);
  if (sniffed.kind === 'unknown') {
    if (/unsupported image format/i.test(message)) {
      const ext = extname(file ?? '').toLowerCase();
      const named = /^\.(png|jpe?g|gif|webp|tiff?|avif|bmp)$/.test(ext) ? `, despite its ${ext} name` : '';
      return new ImageDecodeError(file, 'not-an-image', `not an image: it is ${describeNonImage(bytes)}${named}`, `pass a ${SUPPORTED_LIST} image`, err);
    }
    return new ImageDecodeError(file, 'corrupt', `cannot decode the image (${detail[0] ?? 'unknown error'})`, REDOWNLOAD, err);
  }
  if (endsEarly(bytes, sniffed.format, message)) {
    return new ImageDecodeError(file, 'truncated', `truncated ${sniffed.label} (the file ends early)`, REDOWNLOAD, err);
  }
  const said = detail.find((s) => !/^Input (buffer|file) (has corrupt header|contains unsupported image format):?$/i.test(s)) ?? detail[0];
  return new ImageDecodeError(file, 'corrupt', `corrupt ${sniffed.label} (the decoder said: ${said ?? 'unknown error'})`, REDOWNLOAD, err);
}

/** Whether a failed decode is explained by the data stopping short, from the container structure or libvips's words. */
function endsEarly(b: Buffer, format: SniffedFormat, message: string): boolean {
  switch (format) {
    case 'png': {
      // Walk the chunks: a chunk running past the end, or no IEND, means the file was cut.
      let pos = 8;
      while (pos + 8 <= b.length) {
        const length = b.readUInt32BE(pos);
        if (ascii(b, pos + 4, pos + 8) === 'IEND') return false;
        pos += 12 + length;
      }
      return true;
    }
    case 'webp':
      return b.length < 12 || b.readUInt32LE(4) + 8 > b.length;
    case 'gif':
      if (b[b.length - 1] !== 0x3b) return true; // trailer byte
      break;
    case 'tiff': {
      if (b.length < 8) return true;
      if (ascii(b, 2, 4) === '+\0' || ascii(b, 2, 4) === '\0+') break; // BigTIFF: leave it to the decoder's words
      // The first directory (offset at byte 4, then a count and 12-byte entries) must lie inside the file.
      const le = b[0] === 0x49;
      const ifd = le ? b.readUInt32LE(4) : b.readUInt32BE(4);
      if (ifd + 2 > b.length) return true;
      const entries = le ? b.readUInt16LE(ifd) : b.readUInt16BE(ifd);
      if (ifd + 2 + entries * 12 + 4 > b.length) return true;
      // libtiff's words for strips that stop short: "Read error at scanline N; got 160 bytes, expected 576".
      if (/read error at (scanline|row|tile)|got \d+ bytes, expected \d+/i.test(message)) return true;
      break;
    }
    case 'jpeg':
    case 'heif':
      break;
  }
  return /premature end|unexpected end|truncated|end of (file|stream|data)|not enough data|short read|out of data/i.test(message);
}
