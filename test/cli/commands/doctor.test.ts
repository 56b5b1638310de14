// `gemma-bench doctor` (issue 11): on this machine (no GPU, no torch) it reports gpus [], the cores nproc counts,
// no torch and onnxruntime's CPU provider, and exits 0 (the default run needs none of the GPU stack); with the fake
// nvidia-smi and the fake Python worker it reports an H100 box's GPUs, driver, CUDA version and MIG mode and the
// interpreter's torch; each problem comes with its fix; a named endpoint that does not answer is exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { dataDirFacts, gatherDoctorFacts } from '../../../src/cli/commands/doctor.js';
import { doctorOk, doctorProblems, renderDoctorText, type DoctorFacts } from '../../../src/report/doctor.js';
import { parseNvidiaSmiCudaVersion, parseNvidiaSmiMig } from '../../../src/telemetry/parse-nvidia-smi.js';
import { CLI } from '../../helpers/cli-run.js';
import { fakeNvidiaSmi, fakePython, smiInfo } from '../../engine/backends/transformers/helpers.js';

const FIX = { cudaEpInstall: 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js', pipInstall: 'pip install torch transformers accelerate' };

function doctor(args: string[], extraEnv: Record<string, string> = {}) {
  const home = mkdtempSync(join(tmpdir(), 'gb-doctor-'));
  const env: NodeJS.ProcessEnv = { ...process.env, GEMMA_BENCH_HOME: home, GEMMA_BENCH_DEBUG: '', ...extraEnv };
  delete env.GEMMA_BENCH_PYTHON;
  if (extraEnv.GEMMA_BENCH_PYTHON) env.GEMMA_BENCH_PYTHON = extraEnv.GEMMA_BENCH_PYTHON;
  const r = spawnSync(process.execPath, [CLI, 'doctor', ...args], { encoding: 'utf8', env, cwd: home, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, home };
}

const nproc = (): number => Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim());
const hasNvidiaSmi = spawnSync('sh', ['-c', 'command -v nvidia-smi'], { encoding: 'utf8' }).status === 0;

describe('gemma-bench doctor on this machine', () => {
  it('--json: the documented keys; gpus [] and no torch here; cores as nproc counts them; the CPU provider; exit 0', { skip: hasNvidiaSmi ? 'nvidia-smi is installed here' : false }, () => {
    const r = doctor(['--json', '--python', 'python3']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = JSON.parse(r.stdout) as Record<string, any>;
    for (const k of ['gemmaBench', 'node', 'os', 'cpu', 'memoryGiB', 'gpus', 'nvidiaSmi', 'python', 'onnxruntime', 'dataDir', 'endpoints', 'problems', 'ok']) assert.ok(k in j, k);
    assert.deepEqual(j.gpus, []);
    assert.equal(j.cpu.cores, nproc());
    assert.equal(typeof j.cpu.model, 'string');
    assert.ok(j.memoryGiB > 0);
    assert.deepEqual([j.nvidiaSmi.found, j.nvidiaSmi.driver, j.nvidiaSmi.cuda], [false, null, null]);
    assert.ok(j.python.torch === null || j.python.torch === false, `python.torch is ${j.python.torch}`);
    for (const k of ['path', 'version', 'torch', 'transformers', 'accelerate', 'flashAttn', 'cudaDevices']) assert.ok(k in j.python, `python.${k}`);
    assert.equal(j.python.path, 'python3');
    assert.ok(j.onnxruntime.providers.includes('cpu'));
    assert.match(j.onnxruntime.version, /^1\.\d+\.\d+$/);
    assert.deepEqual([j.dataDir.path, j.dataDir.writable], [r.home, true]);
    assert.deepEqual(j.endpoints, []);
    assert.equal(j.ok, true);
    assert.match(j.gemmaBench.version, /^\d+\.\d+\.\d+/);
    assert.equal(j.node.version, process.version);
    // What is missing for --backend transformers is a warning with its fix, not a failure.
    const torchProblem = (j.problems as { severity: string; what: string; fix: string }[]).find((p) => /needs torch, transformers, accelerate/.test(p.what));
    if (j.python.torch === null) assert.deepEqual([torchProblem?.severity, /-m pip install torch transformers accelerate$/.test(torchProblem?.fix ?? '')], ['warn', true]);
  });

  it('text: one line per fact, the problems with their fixes, and the verdict', { skip: hasNvidiaSmi ? 'nvidia-smi is installed here' : false }, () => {
    const r = doctor(['--python', 'python3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^gemma-bench doctor\n/);
    assert.match(r.stdout, /^ {2}Node +v\d+\.\d+\.\d+ \(needs >=20\.9\)$/m);
    assert.match(r.stdout, /^ {2}GPUs +none: the default run uses the CPU$/m);
    assert.match(r.stdout, /^ {2}onnxruntime +1\.\d+\.\d+: cpu/m);
    assert.match(r.stdout, /^OK: everything the default run needs is here/m);
  });

  it('an --endpoint that does not answer: exit 2, the URL and the cause; a bad URL is a usage error', () => {
    const r = doctor(['--json', '--endpoint', 'http://127.0.0.1:9', '--python', '/nonexistent/python3']);
    assert.equal(r.code, 2, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, any>;
    assert.deepEqual([j.endpoints[0].url, j.endpoints[0].reachable], ['http://127.0.0.1:9', false]);
    assert.match(j.endpoints[0].error, /GET http:\/\/127\.0\.0\.1:9\/v1\/models failed: connection refused/);
    assert.equal(j.ok, false);
    // A missing interpreter only warns: the default run does not need Python.
    assert.match(j.python.error, /the Python interpreter "\/nonexistent\/python3" was not found/);
    assert.ok((j.problems as { severity: string; what: string }[]).some((p) => p.severity === 'warn' && /--backend transformers: the Python interpreter/.test(p.what)));
    const bad = doctor(['--endpoint', 'ftp://host']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--endpoint ftp:\/\/host: unsupported scheme ftp:/);
  });
});

describe('gemma-bench doctor on a (fake) H100 box', () => {
  it('GPUs with name, memory, driver, CUDA version, PCI bus and MIG mode; the interpreter\'s torch and its CUDA view', () => {
    const smi = fakeNvidiaSmi();
    const r = doctor(['--json'], {
      PATH: `${dirname(smi)}${delimiter}${process.env.PATH}`,
      FAKE_SMI_INFO: smiInfo('h100-8x.info.csv'),
      FAKE_SMI_CUDA: '12.6',
      FAKE_SMI_MIG: 'Enabled',
      GEMMA_BENCH_PYTHON: fakePython(),
    });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(j.gpus.length, 8);
    assert.deepEqual(j.gpus[3], { index: 3, name: 'NVIDIA H100 80GB HBM3', uuid: j.gpus[3].uuid, memTotalMiB: 81559, driver: '560.35.03', cuda: '12.6', pciBusId: j.gpus[3].pciBusId, migMode: 'Enabled' });
    assert.match(j.gpus[3].pciBusId, /^00000000:[0-9A-F]{2}:00\.0$/);
    assert.deepEqual(j.nvidiaSmi, { found: true, driver: '560.35.03', cuda: '12.6', message: null });
    // The fake worker's probe is the transcript's: torch 2.9.1+cu128 with 4 CUDA devices.
    assert.deepEqual([j.python.torch, j.python.transformers, j.python.accelerate, j.python.flashAttn, j.python.cudaDevices, j.python.torchCuda], ['2.9.1+cu128', '5.17.0', '1.12.0', null, 4, '12.8']);
    const problems = j.problems as { severity: string; what: string; fix: string }[];
    const said = (re: RegExp) => problems.find((p) => re.test(p.what));
    assert.match(said(/built for CUDA 12\.8 but the driver supports CUDA 12\.6 at most/)!.fix, /upgrade the NVIDIA driver, or: .* -m pip install --force-reinstall torch --index-url https:\/\/download\.pytorch\.org\/whl\/cu126/);
    assert.match(said(/MIG is enabled on GPUs 0,1,2,3,4,5,6,7/)!.fix, /^sudo nvidia-smi -i 0,1,2,3,4,5,6,7 -mig 0/);
    assert.ok(problems.every((p) => p.severity === 'warn'));
  });
});

describe('doctor pieces', () => {
  it('reads the MIG modes and the driver CUDA version nvidia-smi prints', () => {
    assert.deepEqual([...parseNvidiaSmiMig('0, Disabled\n1, Enabled\n2, [N/A]\n\n')], [
      [0, 'Disabled'],
      [1, 'Enabled'],
      [2, null],
    ]);
    assert.equal(parseNvidiaSmiCudaVersion('| NVIDIA-SMI 570.86.15    Driver Version: 570.86.15    CUDA Version: 12.8     |'), '12.8');
    assert.equal(parseNvidiaSmiCudaVersion('CUDA Version                              : 12.4'), '12.4');
    assert.equal(parseNvidiaSmiCudaVersion('No devices were found'), null);
  });

  it('the data directory: writable, to be created, or not a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gb-doctor-dd-'));
    assert.deepEqual(dataDirFacts(dir), { path: dir, exists: true, writable: true, error: null });
    assert.deepEqual(dataDirFacts(join(dir, 'a', 'b')), { path: join(dir, 'a', 'b'), exists: false, writable: true, error: null });
    writeFileSync(join(dir, 'file'), 'x');
    assert.deepEqual(dataDirFacts(join(dir, 'file')), { path: join(dir, 'file'), exists: true, writable: false, error: 'not a directory' });
  });

  it('an endpoint that answers: its models listed', async () => {
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/v1/models' ? JSON.stringify({ object: 'list', data: [{ id: 'google/gemma-3-27b-it', object: 'model' }] }) : '{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const f = await gatherDoctorFacts({ endpoints: [`127.0.0.1:${port}/v1`], python: '/nonexistent/python3', nvidiaSmiPath: '/nonexistent/nvidia-smi' });
      assert.deepEqual(f.endpoints, [{ url: `http://127.0.0.1:${port}`, reachable: true, models: ['google/gemma-3-27b-it'], error: null }]);
    } finally {
      server.close();
    }
  });

  it('what the default run needs is an error with its fix; the rest warns', () => {
    const base: DoctorFacts = {
      gemmaBench: { version: '0.1.0', gitCommit: null, root: '/opt/gemma-bench' },
      node: { version: 'v20.20.2', required: '>=20.9', ok: true },
      os: { platform: 'linux', release: '6.8', arch: 'x64' },
      cpu: { model: 'x', cores: 2 },
      memoryGiB: 16,
      gpus: [],
      nvidiaSmi: { found: false, driver: null, cuda: null, message: 'nvidia-smi not found (nvidia-smi)' },
      python: { path: 'python3', executable: '/usr/bin/python3', version: '3.12.3', torch: '2.11.0+cu128', transformers: '5.17.0', accelerate: '1.12.0', flashAttn: null, numpy: '2.3.4', torchCuda: '12.8', cudaAvailable: false, cudaDevices: 0, problems: [], error: null },
      onnxruntime: { version: '1.30.0', providers: ['cpu'], notInstalled: ['cuda'], error: null },
      runtime: { sharp: '0.35.5', tokenizer: true, resampler: 'wasm', errors: [] },
      dataDir: { path: '/home/u/.local/share/gemma-bench', exists: true, writable: true, error: null },
      endpoints: [],
    };
    assert.deepEqual(doctorProblems(base, FIX), [], 'a CPU box with a complete Python stack has nothing to fix');
    const broken: DoctorFacts = {
      ...base,
      node: { ...base.node, version: 'v20.5.0', ok: false },
      onnxruntime: { version: null, providers: [], notInstalled: [], error: 'Cannot find module onnxruntime_binding.node' },
      dataDir: { ...base.dataDir, writable: false, error: 'EACCES' },
      runtime: { ...base.runtime, resampler: 'js' },
    };
    const p = doctorProblems(broken, FIX);
    assert.equal(doctorOk(p), false);
    assert.deepEqual(
      p.map((x) => [x.severity, x.fix]),
      [
        ['error', 'install Node 20.9 or newer (https://nodejs.org/en/download), then run gemma-bench with it'],
        ['error', 'cd /opt/gemma-bench && npm rebuild onnxruntime-node'],
        ['error', 'export GEMMA_BENCH_HOME=/a/writable/directory (or: chmod u+w /home/u/.local/share/gemma-bench)'],
        ['warn', 'cd /opt/gemma-bench && npm run build'],
      ],
    );
    assert.match(renderDoctorText(broken, p), /^ {2}ERROR Node v20\.5\.0 is older than gemma-bench needs \(>=20\.9\)\n {8}fix: install Node 20\.9/m);
    assert.match(renderDoctorText(broken, p), /^NOT OK: fix the errors above\.$/m);
    const oldTransformers = doctorProblems({ ...base, python: { ...base.python, problems: ['transformers 4.49.0 has no Gemma 3 (it arrived in 4.50): pip install -U transformers'] } }, FIX);
    assert.deepEqual(oldTransformers.map((x) => [x.severity, x.fix]), [['warn', '/usr/bin/python3 -m pip install -U transformers']]);
  });
});
