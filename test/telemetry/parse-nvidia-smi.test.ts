import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizePciBusId,
  nvidiaSmiInfoArgs,
  nvidiaSmiSampleArgs,
  parseDeviceError,
  parseNvidiaSmiInfo,
  parseNvidiaSmiSampleLine,
  parseNvidiaSmiSamples,
} from '../../src/telemetry/parse-nvidia-smi.js';
import type { GpuSample } from '../../src/telemetry/types.js';
import { readFixture } from './helpers.js';

const NUMERIC: Array<keyof GpuSample> = ['utilPct', 'memUsedMiB', 'memTotalMiB', 'powerW', 'tempC', 'smClockMHz'];

function assertNoNaN(gpus: GpuSample[]): void {
  for (const g of gpus) {
    for (const k of NUMERIC) {
      const v = g[k];
      assert.ok(v === null || (typeof v === 'number' && Number.isFinite(v)), `GPU ${g.index} ${k} = ${String(v)}`);
    }
  }
}

test('argument lists match the documented queries', () => {
  assert.deepEqual(nvidiaSmiSampleArgs(500), [
    '--query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total,power.draw,temperature.gpu,clocks.sm',
    '--format=csv,noheader,nounits',
    '-lms',
    '500',
  ]);
  assert.deepEqual(nvidiaSmiInfoArgs(), [
    '--query-gpu=index,uuid,name,memory.total,driver_version,pci.bus_id',
    '--format=csv,noheader,nounits',
  ]);
});

test('10 x A100-SXM4-40GB recording: every row parses, GPU 9 gone after 3 ticks', () => {
  const r = parseNvidiaSmiSamples(readFixture('a100-10x.ticks.csv'));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.deviceErrors, []);
  assert.equal(r.gpus.length, 10 * 3 + 9 * 3);
  assert.deepEqual(r.gpus[0], {
    index: 0,
    uuid: 'GPU-a4afaa2e-bdb5-c393-3cdd-17b545ed66d2',
    name: 'NVIDIA A100-SXM4-40GB',
    utilPct: 0,
    memUsedMiB: 31245,
    memTotalMiB: 40960,
    powerW: 61.32,
    tempC: 34,
    smClockMHz: 1410,
    state: 'ok',
  });
  assert.equal(r.gpus.filter((g) => g.index === 9).length, 3);
  assert.ok(r.gpus.every((g) => g.name === 'NVIDIA A100-SXM4-40GB' && g.state === 'ok' && g.memTotalMiB === 40960));
  assertNoNaN(r.gpus);
});

test('8 x H100 recording (CRLF): N/A power, unsupported clocks, a lost GPU and a garbage line', () => {
  const text = readFixture('h100-8x.ticks.csv');
  const r = parseNvidiaSmiSamples(text);
  assert.equal(r.gpus.length, 32);
  assertNoNaN(r.gpus);
  // The garbage line is reported with its line number, not thrown and not turned into a GPU.
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]!.lineNumber, 9);
  assert.match(r.problems[0]!.line, /Failed to initialize NVML/);
  assert.ok(!r.problems[0]!.line.includes('\r'));
  assert.ok(r.gpus.every((g) => g.name === null || g.name === 'NVIDIA H100 80GB HBM3'));
  const of = (i: number) => r.gpus.filter((g) => g.index === i);
  assert.ok(of(3).every((g) => g.powerW === null), '[N/A] and N/A power');
  assert.ok(of(3).every((g) => g.utilPct !== null && g.tempC !== null), 'other fields of that row still read');
  assert.ok(of(2).every((g) => g.smClockMHz === null), '[Not Supported] clocks');
  assert.equal(of(6)[1]!.tempC, null, '[Unknown Error] temperature');
  assert.equal(of(7)[3]!.powerW, null, 'empty power field');
  assert.deepEqual(
    of(5).map((g) => g.state),
    ['ok', 'ok', 'lost', 'lost'],
  );
  assert.deepEqual(of(5)[2], {
    index: 5,
    uuid: null,
    name: null,
    utilPct: null,
    memUsedMiB: null,
    memTotalMiB: null,
    powerW: null,
    tempC: null,
    smClockMHz: null,
    state: 'lost',
  });
  assert.equal(of(0)[0]!.memTotalMiB, 81559);
});

test('every "no value" spelling reads as null, never NaN', () => {
  for (const v of ['[N/A]', '[Not Supported]', 'N/A', '[Unknown Error]', '[GPU is lost]', '', '  ', '[Insufficient Permissions]']) {
    const r = parseNvidiaSmiSampleLine(`1, GPU-x, NVIDIA A100-SXM4-40GB, ${v}, ${v}, ${v}, ${v}, ${v}, ${v}`);
    assert.equal(r.kind, 'gpu', v);
    if (r.kind !== 'gpu') continue;
    for (const k of NUMERIC) assert.equal(r.gpu[k], null, `${k} for ${JSON.stringify(v)}`);
    assert.deepEqual(r.problems, [], v);
    assert.equal(r.gpu.state, v === '[GPU is lost]' ? 'lost' : 'ok');
  }
});

test('whitespace, CRLF, headers and blank lines', () => {
  const r = parseNvidiaSmiSampleLine('   3 ,GPU-abc ,  NVIDIA H100 80GB HBM3 , 45,1024 , 81559,  123.4 ,40 , 1980  \r\n');
  assert.equal(r.kind, 'gpu');
  if (r.kind === 'gpu') {
    assert.equal(r.gpu.index, 3);
    assert.equal(r.gpu.uuid, 'GPU-abc');
    assert.equal(r.gpu.name, 'NVIDIA H100 80GB HBM3');
    assert.equal(r.gpu.powerW, 123.4);
    assert.equal(r.gpu.smClockMHz, 1980);
  }
  assert.deepEqual(parseNvidiaSmiSampleLine(''), { kind: 'skip' });
  assert.deepEqual(parseNvidiaSmiSampleLine('\r'), { kind: 'skip' });
  assert.deepEqual(
    parseNvidiaSmiSampleLine('index, uuid, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB], power.draw [W], temperature.gpu, clocks.sm [MHz]'),
    { kind: 'skip' },
  );
  const text = 'index, uuid, name, memory.total [MiB], driver_version, pci.bus_id\r\n\r\n0, GPU-a, NVIDIA L4, 23034, 550.54.15, 00000000:01:00.0\r\n';
  assert.deepEqual(parseNvidiaSmiInfo(text), {
    gpus: [{ index: 0, uuid: 'GPU-a', name: 'NVIDIA L4', memTotalMiB: 23034, driverVersion: '550.54.15', pciBusId: '00000000:01:00.0' }],
    problems: [],
  });
});

test('values printed with units (format without nounits) still parse', () => {
  const r = parseNvidiaSmiSampleLine('0, GPU-a, NVIDIA A100-SXM4-40GB, 35 %, 1024 MiB, 40960 MiB, 61.32 W, 34, 1410 MHz');
  assert.equal(r.kind, 'gpu');
  if (r.kind === 'gpu') {
    assert.deepEqual([r.gpu.utilPct, r.gpu.memUsedMiB, r.gpu.memTotalMiB, r.gpu.powerW, r.gpu.smClockMHz], [35, 1024, 40960, 61.32, 1410]);
  }
});

test('a product name containing a comma is joined back', () => {
  const r = parseNvidiaSmiSampleLine('0, GPU-a, Tesla V100, SXM2, 32GB, 10, 100, 32768, 50.5, 40, 1530');
  assert.equal(r.kind, 'gpu');
  if (r.kind === 'gpu') {
    assert.equal(r.gpu.name, 'Tesla V100, SXM2, 32GB');
    assert.equal(r.gpu.utilPct, 10);
    assert.equal(r.gpu.smClockMHz, 1530);
  }
  const info = parseNvidiaSmiInfo('0, GPU-a, Tesla V100, SXM2, 32768, 535.104.05, 00000000:1A:00.0\n');
  assert.equal(info.gpus[0]!.name, 'Tesla V100, SXM2');
  assert.equal(info.gpus[0]!.pciBusId, '00000000:1A:00.0');
});

test('malformed lines are returned as problems, never thrown', () => {
  const cases = [
    '3, GPU-abc, NVIDIA H100 80GB HBM3, 45', // truncated row
    'Failed to initialize NVML: Driver/library version mismatch',
    'x, GPU-abc, NVIDIA H100 80GB HBM3, 45, 1, 2, 3, 4, 5', // index not a number
    '-1, GPU-abc, NVIDIA H100 80GB HBM3, 45, 1, 2, 3, 4, 5',
    '\u0000\u0001\u00ff garbage \ufffd',
    'x'.repeat(5000),
  ];
  for (const c of cases) {
    const r = parseNvidiaSmiSampleLine(c);
    assert.equal(r.kind, 'problem', c.slice(0, 40));
    if (r.kind === 'problem') assert.ok(r.problem.line.length <= 210, 'long lines are clipped');
  }
  // An unknown spelling in one field nulls that field only and says so.
  const r = parseNvidiaSmiSampleLine('0, GPU-a, NVIDIA A100-SXM4-40GB, abc, 100, 40960, 61.3, 34, 1410');
  assert.equal(r.kind, 'gpu');
  if (r.kind === 'gpu') {
    assert.equal(r.gpu.utilPct, null);
    assert.equal(r.gpu.memUsedMiB, 100);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0]!.message, /utilization\.gpu/);
  }
  const info = parseNvidiaSmiInfo('garbage\n0, GPU-a, NVIDIA L4, 23034, 550.54.15, 00000000:01:00.0\n1, GPU-b\n');
  assert.equal(info.gpus.length, 1);
  assert.deepEqual(
    info.problems.map((p) => p.lineNumber),
    [1, 3],
  );
});

test('"Unable to determine the device handle" lines are recognised, lost or not', () => {
  const lost = 'Unable to determine the device handle for GPU 0000:3B:00.0: GPU is lost.  Reboot the system to recover this GPU';
  assert.deepEqual(parseDeviceError(lost), {
    pciBusId: '0000:3B:00.0',
    reason: 'GPU is lost. Reboot the system to recover this GPU',
    lost: true,
  });
  const r = parseNvidiaSmiSampleLine(lost + '\r');
  assert.equal(r.kind, 'device-error');
  const unknown = parseDeviceError('Unable to determine the device handle for GPU 00000000:BA:00.0: Unknown Error');
  assert.deepEqual(unknown, { pciBusId: '00000000:BA:00.0', reason: 'Unknown Error', lost: false });
  assert.equal(parseDeviceError('0, GPU-a, NVIDIA L4, 1, 2, 3, 4, 5, 6'), null);
  const info = parseNvidiaSmiInfo(`0, GPU-a, NVIDIA L4, 23034, 550.54.15, 00000000:01:00.0\n${lost}\n`);
  assert.equal(info.gpus.length, 1);
  assert.match(info.problems[0]!.message, /0000:3B:00\.0.*lost/);
});

test('environment query recordings', () => {
  const a = parseNvidiaSmiInfo(readFixture('a100-10x.info.csv'));
  assert.deepEqual(a.problems, []);
  assert.equal(a.gpus.length, 10);
  assert.deepEqual(a.gpus[9], {
    index: 9,
    uuid: 'GPU-c60fcc33-ae67-fa7a-88bb-4402d7501fc9',
    name: 'NVIDIA A100-SXM4-40GB',
    memTotalMiB: 40960,
    driverVersion: '550.90.07',
    pciBusId: '00000000:D5:00.0',
  });
  const h = parseNvidiaSmiInfo(readFixture('h100-8x.info.csv'));
  assert.deepEqual(h.problems, []);
  assert.deepEqual(
    h.gpus.map((g) => g.index),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  assert.ok(h.gpus.every((g) => g.name === 'NVIDIA H100 80GB HBM3' && g.memTotalMiB === 81559 && g.driverVersion === '560.35.03'));
  assert.ok(h.gpus.every((g) => !g.pciBusId!.includes('\r')));
  // Rows come back in index order even if printed otherwise.
  const shuffled = parseNvidiaSmiInfo('1, GPU-b, NVIDIA L4, 1, d, 00000000:02:00.0\n0, GPU-a, NVIDIA L4, 1, d, 00000000:01:00.0');
  assert.deepEqual(
    shuffled.gpus.map((g) => g.index),
    [0, 1],
  );
});

test('PCI bus ids compare across nvidia-smi spellings', () => {
  assert.equal(normalizePciBusId('00000000:3B:00.0'), normalizePciBusId('0000:3b:00.0'));
  assert.notEqual(normalizePciBusId('00000000:3B:00.0'), normalizePciBusId('00000000:3C:00.0'));
  assert.equal(normalizePciBusId('00000001:3B:00.0'), '1:3b:00.0');
});
