// Minimal safetensors writer and header reader (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then raw little-endian
// tensor bytes. Tensors are written one by one to the file, never concatenated in memory.
import { open } from 'node:fs/promises';

export interface SafetensorsTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

interface HeaderEntry {
  dtype: 'F32';
  shape: number[];
  data_offsets: [number, number];
}

/** Writes F32 tensors sorted by name (deterministic), header padded with spaces to 8-byte alignment. */
export async function writeSafetensors(path: string, tensors: Iterable<SafetensorsTensor>, metadata: Record<string, string> = {}): Promise<number> {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, HeaderEntry | Record<string, string>> = { __metadata__: { format: 'pt', ...metadata } };
  let offset = 0;
  for (const t of sorted) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`internal: tensor ${t.name} has ${t.data.length} values for shape [${t.shape}]`);
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));
  const fh = await open(path, 'w');
  try {
    await fh.write(prefix);
    await fh.write(headerBytes);
    for (const t of sorted) await fh.write(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  } finally {
    await fh.close();
  }
  return 8 + headerBytes.length + offset;
}

/** The parsed header (for checks and tests); reads only the header bytes. */
export async function readSafetensorsHeader(path: string): Promise<Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>> {
  const fh = await open(path, 'r');
  try {
    const prefix = Buffer.alloc(8);
    await fh.read(prefix, 0, 8, 0);
    const len = Number(prefix.readBigUInt64LE(0));
    const json = Buffer.alloc(len);
    await fh.read(json, 0, len, 8);
    const parsed = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    delete parsed.__metadata__;
    return parsed as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  } finally {
    await fh.close();
  }
}
