// The onnx backend on the CUDA execution provider (issue 11, bug 6), as far as a machine without a GPU can check it:
// the provider listing, the refusal when CUDA's is missing (a configuration error naming the install command and the
// transformers backend), and which GPU each replica runs on: the r-th of what CUDA_VISIBLE_DEVICES leaves of
// nvidia-smi's GPUs, with CUDA_DEVICE_ORDER=PCI_BUS_ID set before CUDA starts. The CUDA run itself needs a GPU
// (scripts/gpu-smoke.sh).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cudaPlacement, OnnxBackend } from '../../../../src/engine/backends/onnx/index.js';
import { cudaProviderMissingMessage, onnxProviders, type OnnxProviders } from '../../../../src/engine/backends/onnx/providers.js';
import type { NvidiaSmiProbeResult } from '../../../../src/telemetry/gpu-probe.js';
import type { GpuInfo } from '../../../../src/telemetry/types.js';
import { collectLog, fakeNvidiaSmi, smiInfo } from '../transformers/helpers.js';

const home = mkdtempSync(join(tmpdir(), 'gb-onnx-cuda-'));
const baseEnv = (): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, GEMMA_BENCH_HOME: home };
  delete e.CUDA_VISIBLE_DEVICES;
  return e;
};
const withCuda = (): OnnxProviders => ({ version: '1.30.0', providers: ['cpu', 'webgpu', 'cuda'], notInstalled: ['tensorrt'], error: null });
const withoutCuda = (): OnnxProviders => ({ version: '1.30.0', providers: ['cpu', 'webgpu'], notInstalled: ['cuda', 'tensorrt'], error: null });

const gpus = (n: number): GpuInfo[] => Array.from({ length: n }, (_, i) => ({ index: i, uuid: `GPU-${i}aaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee`, name: 'NVIDIA H100 80GB HBM3', memTotalMiB: 81559, driverVersion: '560.35.03', pciBusId: `00000000:${10 + i}:00.0` }));
const smi = (n: number): NvidiaSmiProbeResult => ({ ok: true, gpus: gpus(n), problems: [] });
const noSmi: NvidiaSmiProbeResult = { ok: false, reason: 'not-found', message: 'nvidia-smi not found (nvidia-smi)' };

describe('onnxruntime-node execution providers', () => {
  it('lists what this installation can use: cpu always; CUDA only with its library installed', () => {
    const p = onnxProviders();
    assert.equal(p.error, null);
    assert.match(p.version!, /^1\.\d+\.\d+$/);
    assert.ok(p.providers.includes('cpu'));
    assert.ok(p.providers.includes('cuda') || p.notInstalled.includes('cuda'));
  });

  it('the missing-CUDA message says what is there, how to install, and that transformers needs no provider', () => {
    const m = cudaProviderMissingMessage(withoutCuda());
    assert.match(m, /^--ep cuda: the CUDA execution provider of onnxruntime-node is not installed \(onnxruntime-node 1\.30\.0 here has cpu, webgpu\)\./);
    assert.ok(m.includes("ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js"), m);
    assert.match(m, /--backend transformers, which runs on the GPUs through PyTorch and needs no execution provider/);
  });
});

describe('which GPU each CUDA replica runs on', () => {
  it('replica r on the r-th GPU nvidia-smi lists, or the r-th that CUDA_VISIBLE_DEVICES leaves (indices or UUIDs)', () => {
    assert.deepEqual(cudaPlacement(smi(8), undefined, 2).indices, [0, 1]);
    assert.deepEqual(cudaPlacement(smi(8), '6,2', 2).indices, [6, 2]);
    assert.deepEqual(cudaPlacement(smi(8), 'GPU-5aaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee,3', 2).indices, [5, 3]);
    assert.match(cudaPlacement(smi(8), '6,2', 1).detail, /CUDA_VISIBLE_DEVICES=6,2 leaves GPUs 2, 6 of the 8 nvidia-smi lists/);
  });

  it('refuses more replicas than visible GPUs, or a GPU nvidia-smi does not list, naming the numbers', () => {
    assert.throws(() => cudaPlacement(smi(8), '4,5', 3), /--ep cuda runs one replica per GPU: 3 replicas need 3 GPUs, but only 2 are visible \(CUDA_VISIBLE_DEVICES=4,5 leaves GPUs 4-5 of the 8 nvidia-smi lists\)\. Lower --replicas\./);
    assert.throws(() => cudaPlacement(smi(2), '7', 1), /CUDA_VISIBLE_DEVICES names GPU 7, which nvidia-smi does not list/);
    assert.throws(() => cudaPlacement(smi(2), '', 1), /no GPU is visible/);
  });

  it('without nvidia-smi: CUDA_VISIBLE_DEVICES entries as they are, else the ordinals, said as an assumption', () => {
    assert.deepEqual(cudaPlacement(noSmi, '3,1', 2).indices, [3, 1]);
    const p = cudaPlacement(noSmi, undefined, 2);
    assert.deepEqual(p.indices, [0, 1]);
    assert.match(p.detail, /nvidia-smi not found .*assuming CUDA devices 0-1 are nvidia-smi's GPUs 0-1/);
  });
});

describe('--ep cuda before anything loads (preflight)', () => {
  it('a missing CUDA provider is a configuration error, checked before the GPU count (not the sharding message)', async () => {
    const b = await OnnxBackend.create({ model: 'tiny', ep: 'cuda', log: () => {}, env: baseEnv(), providers: withoutCuda });
    await assert.rejects(b.preflight({ replicas: 1, gpusPerReplica: 2 }), (e: Error & { stage?: string }) => e.stage === 'configuration' && /not installed/.test(e.message) && !/shard/.test(e.message));
  });

  it('too few GPUs under CUDA_VISIBLE_DEVICES is a configuration error', async () => {
    const b = await OnnxBackend.create({ model: 'tiny', ep: 'cuda', log: () => {}, env: { ...baseEnv(), CUDA_VISIBLE_DEVICES: '5', FAKE_SMI_INFO: smiInfo('h100-8x.info.csv') }, providers: withCuda, nvidiaSmiPath: fakeNvidiaSmi() });
    await assert.rejects(b.preflight({ replicas: 2, gpusPerReplica: 1 }), (e: Error & { stage?: string }) => e.stage === 'configuration' && /2 replicas need 2 GPUs, but only 1 is visible/.test(e.message));
  });

  it('start: CUDA_DEVICE_ORDER=PCI_BUS_ID in the process before CUDA starts, each replica on its nvidia-smi GPU', async () => {
    // prepareCuda is what start() runs before the worker threads create their CUDA sessions (which need a GPU).
    const logs = collectLog();
    const saved = process.env.CUDA_DEVICE_ORDER;
    process.env.CUDA_DEVICE_ORDER = 'FASTEST_FIRST';
    try {
      const b = await OnnxBackend.create({ model: 'tiny', ep: 'cuda', log: logs.log, env: { ...baseEnv(), CUDA_VISIBLE_DEVICES: '6,2', FAKE_SMI_INFO: smiInfo('h100-8x.info.csv') }, providers: withCuda, nvidiaSmiPath: fakeNvidiaSmi() });
      const p = await b.prepareCuda({ replicas: 2, gpusPerReplica: 1, log: logs.log });
      assert.deepEqual(p.indices, [6, 2]);
      assert.equal(process.env.CUDA_DEVICE_ORDER, 'PCI_BUS_ID');
      const text = logs.text();
      assert.match(text, /warn: CUDA_DEVICE_ORDER=FASTEST_FIRST replaced by PCI_BUS_ID/);
      assert.match(text, /info: --ep cuda: replica 0 on GPU 6; replica 1 on GPU 2 \(CUDA_VISIBLE_DEVICES=6,2 leaves GPUs 2, 6 of the 8 nvidia-smi lists\)/);
    } finally {
      if (saved === undefined) delete process.env.CUDA_DEVICE_ORDER;
      else process.env.CUDA_DEVICE_ORDER = saved;
    }
  });
});
