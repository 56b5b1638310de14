// Where request images live while a replica reads them: the onnx replica takes an image *path* (its worker thread
// reads and decodes the file itself), so each decoded data URL is written to a file of its own in a private
// directory, in memory (/dev/shm) where the machine has it, and deleted when its request ends. The directory goes
// when the server closes.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SHM_DIR = '/dev/shm';
const EXTENSIONS: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

export class ImageSpool {
  private seq = 0;

  private constructor(readonly dir: string) {}

  static async create(): Promise<ImageSpool> {
    const base = existsSync(SHM_DIR) ? SHM_DIR : tmpdir();
    const dir = await mkdtemp(join(base, `gemma-bench-serve-${process.pid}-`)).catch(() => mkdtemp(join(tmpdir(), `gemma-bench-serve-${process.pid}-`)));
    return new ImageSpool(dir);
  }

  /** Writes one request's image; returns its path. */
  async write(bytes: Buffer, mime: string): Promise<string> {
    const path = join(this.dir, `request-${++this.seq}.${EXTENSIONS[mime] ?? 'img'}`);
    await writeFile(path, bytes, { mode: 0o600 });
    return path;
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
