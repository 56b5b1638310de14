import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dcgmGpuSamples } from '../../src/telemetry/dcgm.js';
import { parsePrometheusText } from '../../src/telemetry/prometheus.js';
import { METRICS_DIR } from '../helpers/sse-replayer.js';

const page = (name: string) => parsePrometheusText(readFileSync(join(METRICS_DIR, name), 'utf8'));

describe('DCGM exporter pages to per-GPU samples', () => {
  it('maps the recorded 8 x H100 page (Hostname label, pod attribution on GPU 0)', () => {
    const gpus = dcgmGpuSamples(page('dcgm-h100x8-sampled.prom'), 'http://gpu-node-1:9400');
    assert.equal(gpus.length, 8);
    assert.deepEqual(gpus.map((g) => g.index), [0, 1, 2, 3, 4, 5, 6, 7]);
    const g0 = gpus[0];
    assert.equal(g0.uuid, 'GPU-c4529c8d-69c4-b61d-e0bc-7b2460096005');
    assert.equal(g0.name, 'NVIDIA H100 80GB HBM3');
    assert.equal(g0.host, 'gpu-node-1');
    assert.equal(g0.endpoint, 'http://gpu-node-1:9400');
    assert.equal(g0.powerW, 113.611);
    assert.equal(g0.tempC, 30);
    assert.equal(g0.utilPct, 0);
    assert.equal(g0.memUsedMiB, null, 'this sample did not export FB_USED');
    assert.equal(g0.memTotalMiB, null);
    assert.equal(g0.state, 'ok');
    assert.equal(g0.migInstances, 0);
    assert.equal(gpus[7].powerW, 66.997);
    assert.equal(gpus[7].tempC, 26);
  });

  it('reads the lowercase hostname label of current exporters and sums MIG instances', () => {
    const gpus = dcgmGpuSamples(page('dcgm-mig-hostname-excerpt.prom'), 'http://n:9400');
    assert.deepEqual(gpus.map((g) => [g.index, g.host, g.name, g.migInstances]), [
      [1, 'dcgm-exporter-wwwjh', 'NVIDIA RTX 2000 Ada Generation', 0],
      [2, 'dcgm-exporter-wwwjh', 'NVIDIA A30', 1],
    ]);
    assert.equal(gpus[0].memUsedMiB, null);
  });

  it('computes the total framebuffer from used + free (+ reserved), or takes FB_TOTAL, and SM clock', () => {
    const p = parsePrometheusText(
      [
        'DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-a",modelName="NVIDIA A100-SXM4-40GB",Hostname="h"} 30000',
        'DCGM_FI_DEV_FB_FREE{gpu="0",UUID="GPU-a",modelName="NVIDIA A100-SXM4-40GB",Hostname="h"} 10000',
        'DCGM_FI_DEV_FB_RESERVED{gpu="0",UUID="GPU-a",modelName="NVIDIA A100-SXM4-40GB",Hostname="h"} 460',
        'DCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="GPU-a",modelName="NVIDIA A100-SXM4-40GB",Hostname="h"} 1410',
        'DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-b",Hostname="h"} 5',
        'DCGM_FI_DEV_FB_TOTAL{gpu="1",UUID="GPU-b",Hostname="h"} 40960',
        'DCGM_FI_DEV_GPU_UTIL{UUID="GPU-no-index"} 50',
      ].join('\n'),
    );
    const gpus = dcgmGpuSamples(p, 'e');
    assert.equal(gpus.length, 2);
    assert.equal(gpus[0].memUsedMiB, 30000);
    assert.equal(gpus[0].memTotalMiB, 40460);
    assert.equal(gpus[0].smClockMHz, 1410);
    assert.equal(gpus[1].memTotalMiB, 40960);
    assert.equal(gpus[1].name, null);
  });
});
