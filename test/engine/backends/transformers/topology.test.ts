// GPU groups and the refusals that must come before anything loads, each naming the numbers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assignGpuGroups,
  cudaChildEnv,
  formatGpuList,
  parseCudaVisibleDevices,
  resolveReplicaCount,
  resolveVisibleGpus,
  TopologyError,
  visibleFromNvidiaSmi,
  type VisibleGpus,
} from '../../../../src/engine/backends/transformers/topology.js';
import type { GpuInfo } from '../../../../src/telemetry/types.js';

const gpus = (n: number): GpuInfo[] =>
  Array.from({ length: n }, (_, i) => ({ index: i, uuid: `GPU-0000000${i}-aaaa-bbbb-cccc-dddddddddddd`, name: 'NVIDIA A100-SXM4-40GB', memTotalMiB: 40960, driverVersion: '550.54.15', pciBusId: `00000000:0${i}:00.0` }));
const visible = (n: number): VisibleGpus => visibleFromNvidiaSmi(gpus(n), null);

describe('transformers topology', () => {
  it('gives replica r the visible GPUs [r*g .. r*g+g-1]', () => {
    const groups = assignGpuGroups(visible(10), 2, 5);
    assert.deepEqual(
      groups.map((g) => g.ids),
      [
        [0, 1],
        [2, 3],
        [4, 5],
        [6, 7],
        [8, 9],
      ],
    );
    assert.deepEqual(groups[3].indices, [6, 7]);
  });

  it('refuses a topology that needs more GPUs than are visible, naming the numbers', () => {
    assert.throws(
      () => assignGpuGroups(visible(8), 2, 5),
      (e: Error) =>
        e instanceof TopologyError &&
        e.message.includes('2 GPUs per replica x 5 replicas = 10 GPUs') &&
        e.message.includes('only 8 are visible') &&
        e.message.includes('nvidia-smi lists GPUs 0-7') &&
        e.message.includes('--replicas auto (4 replicas of 2 GPUs here)'),
    );
    assert.throws(() => assignGpuGroups(visible(1), 2, 1), /needs 2 GPUs per replica x 1 replica = 2 GPUs, but only 1 is visible/);
  });

  it('says when no GPU is visible at all and points at the CPU backend', () => {
    const none = resolveVisibleGpus({ ok: false, reason: 'not-found', message: 'nvidia-smi not found (nvidia-smi)' }, null, null);
    assert.throws(() => assignGpuGroups(none, 1, 1), /no GPU is visible \(nvidia-smi not found \(nvidia-smi\)\).*--backend onnx/);
  });

  it('resolves replicas auto as visible GPUs / gpusPerReplica, whole replicas only', () => {
    assert.equal(resolveReplicaCount(visible(10), 2, 'auto'), 5);
    assert.equal(resolveReplicaCount(visible(7), 2, 'auto'), 3);
    assert.equal(resolveReplicaCount(visible(8), 3, 4), 4);
    assert.throws(() => resolveReplicaCount(visible(1), 2, 'auto'), /replicas auto needs at least 2 GPUs.*only 1 is visible/);
  });

  it('reads CUDA_VISIBLE_DEVICES as CUDA does', () => {
    assert.equal(parseCudaVisibleDevices(undefined), null);
    assert.deepEqual(parseCudaVisibleDevices(''), []);
    assert.deepEqual(parseCudaVisibleDevices('-1'), []);
    assert.deepEqual(parseCudaVisibleDevices('2, 3,0'), [2, 3, 0]);
    assert.deepEqual(parseCudaVisibleDevices('0,1,-1,2'), [0, 1]);
    assert.deepEqual(parseCudaVisibleDevices('GPU-00000001-aaaa'), ['GPU-00000001-aaaa']);
  });

  it('restricts nvidia-smi GPUs to this process CUDA_VISIBLE_DEVICES, UUIDs (and their prefixes) included', () => {
    const v = visibleFromNvidiaSmi(gpus(8), [6, 7, 'GPU-00000002']);
    assert.deepEqual(v.ids, [6, 7, 2]);
    assert.match(v.detail, /CUDA_VISIBLE_DEVICES=6,7,GPU-00000002 leaves GPUs 2, 6-7 of the 8 nvidia-smi lists/);
    assert.throws(() => visibleFromNvidiaSmi(gpus(8), [9]), /CUDA_VISIBLE_DEVICES names GPU 9, which nvidia-smi does not list \(it lists 0-7\)/);
  });

  it('falls back to torch when nvidia-smi cannot answer', () => {
    const v = resolveVisibleGpus({ ok: false, reason: 'not-found', message: 'nvidia-smi not found (nvidia-smi)' }, 4, null);
    assert.deepEqual(v.ids, [0, 1, 2, 3]);
    assert.match(v.detail, /torch sees 4 CUDA devices; nvidia-smi not found/);
    const w = resolveVisibleGpus({ ok: false, reason: 'not-found', message: 'x' }, 2, [5, 6, 7]);
    assert.deepEqual(w.ids, [5, 6]);
  });

  it('formats GPU lists compactly', () => {
    assert.equal(formatGpuList([0, 1, 2, 3, 6, 8, 9]), '0-3, 6, 8-9');
    assert.equal(formatGpuList([]), 'none');
  });
});

it('cudaChildEnv pins PCI order and the replica GPU group', () => {
  const env = cudaChildEnv([2, 3], { PATH: '/usr/bin', CUDA_VISIBLE_DEVICES: '0' });
  assert.deepEqual(env, { PATH: '/usr/bin', CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: '2,3' });
  assert.equal(cudaChildEnv(['GPU-a4afaa2e-bdb5-c393-3cdd-17b545ed66d2'], {}).CUDA_VISIBLE_DEVICES, 'GPU-a4afaa2e-bdb5-c393-3cdd-17b545ed66d2');
  assert.equal(cudaChildEnv([], {}).CUDA_VISIBLE_DEVICES, '', 'an empty group hides every GPU');
  assert.throws(() => cudaChildEnv([-1], {}), RangeError);
  assert.throws(() => cudaChildEnv([1.5], {}), RangeError);
  assert.throws(() => cudaChildEnv(['0,1'], {}), RangeError);
  // Defaults to this process's environment without mutating it.
  const before = process.env.CUDA_VISIBLE_DEVICES;
  assert.equal(cudaChildEnv([0]).PATH, process.env.PATH);
  assert.equal(process.env.CUDA_VISIBLE_DEVICES, before);
});
