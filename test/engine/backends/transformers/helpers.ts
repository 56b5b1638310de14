// Shared helpers for the transformers backend tests: the fake worker standing in for the Python interpreter, the
// fake nvidia-smi, a log collector, synthetic images, and requests.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { InferRequest, LogFn } from '../../../../src/engine/backend.js';
import type { PanScanOptions } from '../../../../src/panscan/types.js';
import { FIXTURES_DIR, REPO_ROOT } from '../../../helpers/repo.js';

export { REPO_ROOT };
export const TF_FIXTURES = join(FIXTURES_DIR, 'transformers');
export const TRANSCRIPT = join(TF_FIXTURES, 'transcript-27b-2x2-h100.json');
export const WORKER_PY = join(REPO_ROOT, 'python', 'gemma_bench_worker.py');

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `gb-tf-${prefix}-`));

/** An executable standing in for `python`: runs fake-worker.mjs with this very node, passing every argument on. */
export function fakePython(): string {
  const path = join(tempDir('py'), 'python');
  writeFileSync(path, `#!/bin/sh\nexec ${q(process.execPath)} ${q(join(TF_FIXTURES, 'fake-worker.mjs'))} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The telemetry tests' fake nvidia-smi, reporting the recorded GPUs of `infoCsv`. */
export function fakeNvidiaSmi(): string {
  const path = join(tempDir('smi'), 'nvidia-smi');
  writeFileSync(path, `#!/bin/sh\nexec ${q(process.execPath)} ${q(join(FIXTURES_DIR, 'telemetry', 'fake-nvidia-smi.mjs'))} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}
export const smiInfo = (name: string): string => join(FIXTURES_DIR, 'telemetry', name);

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}
export function collectLog(): { log: LogFn; lines: LogLine[]; text: () => string } {
  const lines: LogLine[] = [];
  return { log: (level, message) => lines.push({ level, message }), lines, text: () => lines.map((l) => `${l.level}: ${l.message}`).join('\n') };
}

/** A solid-colour PNG of the given size (the first pixel's value is known exactly). */
export async function solidPng(dir: string, name: string, width: number, height: number, rgb: readonly [number, number, number]): Promise<string> {
  const path = join(dir, name);
  await sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toFile(path);
  return path;
}

export const HF_PANSCAN: PanScanOptions = { minRatioToActivate: 1.2, maxNumCrops: 4, minCropSize: 256 };

export function request(id: number, imagePath: string, maxNewTokens = 8, panScan: PanScanOptions | null = HF_PANSCAN): InferRequest {
  return { id, imagePath, prompt: 'What does this receipt say?', maxNewTokens, preprocess: { panScan, exifOrientation: 'ignore', pixelLimit: 89_478_485 } };
}

/** python3 on PATH, and whether it has numpy / torch (decides which tests can run here). */
export function pythonInfo(): { python: string | null; numpy: boolean; torch: boolean } {
  const r = spawnSync('python3', ['-c', 'import importlib.util as u; print(u.find_spec("numpy") is not None, u.find_spec("torch") is not None)'], { encoding: 'utf8' });
  if (r.status !== 0) return { python: null, numpy: false, torch: false };
  const [numpy, torch] = r.stdout.trim().split(' ');
  return { python: 'python3', numpy: numpy === 'True', torch: torch === 'True' };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
