// `gemma-bench doctor` as a view model: the facts gathered about this machine (src/cli/commands/doctor.ts gathers
// them), the problems they show, each with the command that fixes it, and the plain-text report. Pure. A problem is
// an "error" when the default run (`gemma-bench run`: the onnx backend on the CPU with the built-in tiny model) cannot
// work without the fix, or when an endpoint the user named does not answer; anything else (the transformers
// backend's Python packages, the CUDA execution provider, the GPU driver) is a "warn".

export interface DoctorGpu {
  readonly index: number;
  readonly name: string | null;
  readonly uuid: string | null;
  readonly memTotalMiB: number | null;
  readonly driver: string | null;
  /** The highest CUDA version the driver supports (the same for every GPU). */
  readonly cuda: string | null;
  readonly pciBusId: string | null;
  /** "Enabled" | "Disabled" | null (no MIG on this GPU, or unknown). */
  readonly migMode: string | null;
}

export interface DoctorPython {
  /** The interpreter gemma-bench would use (--python, $GEMMA_BENCH_PYTHON, else python3), as given. */
  readonly path: string;
  /** sys.executable, when it ran. */
  readonly executable: string | null;
  readonly version: string | null;
  /** Package versions; null when not installed (or the interpreter did not run). */
  readonly torch: string | null;
  readonly transformers: string | null;
  readonly accelerate: string | null;
  readonly flashAttn: string | null;
  readonly numpy: string | null;
  /** torch.version.cuda: null for a CPU-only build. */
  readonly torchCuda: string | null;
  /** torch.cuda.is_available() and torch.cuda.device_count(); null when torch is not there. */
  readonly cudaAvailable: boolean | null;
  readonly cudaDevices: number | null;
  /** Why the worker could not run here (the probe's problems: missing packages with their pip command, ...). */
  readonly problems: readonly string[];
  /** Why the interpreter could not be asked at all (not found, crashed, timed out), or null. */
  readonly error: string | null;
}

export interface DoctorEndpoint {
  readonly url: string;
  readonly reachable: boolean;
  readonly models: readonly string[];
  readonly error: string | null;
}

/** The facts, with the keys `doctor --json` prints (plus `problems` and `ok`, added by doctorJson). */
export interface DoctorFacts {
  readonly gemmaBench: { readonly version: string; readonly gitCommit: string | null; readonly root: string };
  readonly node: { readonly version: string; readonly required: string; readonly ok: boolean };
  readonly os: { readonly platform: string; readonly release: string; readonly arch: string };
  readonly cpu: { readonly model: string; readonly cores: number };
  readonly memoryGiB: number;
  readonly gpus: readonly DoctorGpu[];
  readonly nvidiaSmi: { readonly found: boolean; readonly driver: string | null; readonly cuda: string | null; readonly message: string | null };
  readonly python: DoctorPython;
  readonly onnxruntime: { readonly version: string | null; readonly providers: readonly string[]; readonly notInstalled: readonly string[]; readonly error: string | null };
  /** What the default run needs beside onnxruntime: image decoding, the tokenizer, the resampler. */
  readonly runtime: { readonly sharp: string | null; readonly tokenizer: boolean; readonly resampler: 'wasm' | 'js'; readonly errors: readonly string[] };
  readonly dataDir: { readonly path: string; readonly exists: boolean; readonly writable: boolean; readonly error: string | null };
  readonly endpoints: readonly DoctorEndpoint[];
}

export interface DoctorProblem {
  readonly severity: 'error' | 'warn';
  readonly what: string;
  /** The command (or the one step) that fixes it. */
  readonly fix: string;
}

const REQUIRED_PY = ['torch', 'transformers', 'accelerate'] as const;

/** "12.8" > "12.4"; missing parts count as 0. */
function versionAbove(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return false;
}

/** PyTorch's wheel index for the driver's CUDA version (cu126 for 12.6), or the current default (cu128). */
function torchIndex(driverCuda: string | null): string {
  const m = driverCuda ? /^(\d+)\.(\d+)/.exec(driverCuda) : null;
  return `https://download.pytorch.org/whl/${m ? `cu${m[1]}${m[2]}` : 'cu128'}`;
}

/** Every problem the facts show, errors first, each with its fix. */
export function doctorProblems(f: DoctorFacts, o: { readonly cudaEpInstall: string; readonly pipInstall: string }): DoctorProblem[] {
  const errors: DoctorProblem[] = [];
  const warns: DoctorProblem[] = [];
  const root = f.gemmaBench.root;
  if (!f.node.ok) errors.push({ severity: 'error', what: `Node ${f.node.version} is older than gemma-bench needs (${f.node.required})`, fix: 'install Node 20.9 or newer (https://nodejs.org/en/download), then run gemma-bench with it' });
  const ort = f.onnxruntime;
  if (ort.error !== null) errors.push({ severity: 'error', what: `onnxruntime-node cannot be loaded: ${ort.error}`, fix: `cd ${root} && npm rebuild onnxruntime-node` });
  else if (!ort.providers.includes('cpu')) errors.push({ severity: 'error', what: `onnxruntime-node ${ort.version ?? ''} has no CPU execution provider`, fix: `cd ${root} && npm rebuild onnxruntime-node` });
  for (const e of f.runtime.errors) errors.push({ severity: 'error', what: e, fix: /sharp/.test(e) ? `cd ${root} && npm rebuild sharp` : `cd ${root} && npm install` });
  if (f.runtime.resampler === 'js') warns.push({ severity: 'warn', what: 'build/resample.wasm is missing: preprocessing falls back to the slower JavaScript resampler', fix: `cd ${root} && npm run build` });
  if (!f.dataDir.writable) {
    errors.push({ severity: 'error', what: `the data directory ${f.dataDir.path} is not writable${f.dataDir.error ? ` (${f.dataDir.error})` : ''}: runs, presets and the tiny model live there`, fix: `export GEMMA_BENCH_HOME=/a/writable/directory (or: chmod u+w ${f.dataDir.path})` });
  }
  for (const e of f.endpoints) {
    if (!e.reachable) errors.push({ severity: 'error', what: `endpoint ${e.url}: ${e.error ?? 'no answer'}`, fix: `start the server (or check the URL), then: curl ${e.url}/v1/models` });
  }

  const py = f.python;
  if (py.error !== null) {
    warns.push({ severity: 'warn', what: `--backend transformers: ${py.error}`, fix: `install Python 3.9+ and then: python3 -m pip install ${o.pipInstall.replace(/^pip install /, '')} (or point GEMMA_BENCH_PYTHON at an interpreter that has them)` });
  } else {
    const exe = py.executable ?? py.path;
    const missing = REQUIRED_PY.filter((p) => py[p] === null);
    if (missing.length) warns.push({ severity: 'warn', what: `--backend transformers needs ${REQUIRED_PY.join(', ')}; ${exe} lacks ${missing.join(', ')}`, fix: `${exe} -m pip install ${missing.join(' ')}` });
    for (const p of py.problems) {
      if (missing.length && /needs the Python packages/.test(p)) continue; // said just above
      const pip = /pip install ([^.;()]+?)(?:[.;(]|$)/.exec(p);
      warns.push({ severity: 'warn', what: `--backend transformers: ${p}`, fix: pip ? `${exe} -m pip install ${pip[1].trim()}` : `${exe} -m pip install -U torch transformers accelerate` });
    }
    if (py.torch !== null && f.gpus.length > 0 && py.cudaDevices === 0) {
      const build = py.torchCuda === null ? 'a CPU-only build' : `built for CUDA ${py.torchCuda}`;
      warns.push({ severity: 'warn', what: `nvidia-smi lists ${f.gpus.length} GPU${f.gpus.length === 1 ? '' : 's'} but torch ${py.torch} (${build}) sees none`, fix: `${exe} -m pip install --force-reinstall torch --index-url ${torchIndex(f.nvidiaSmi.cuda)} (a CUDA build the driver supports${f.nvidiaSmi.cuda ? `: CUDA ${f.nvidiaSmi.cuda} or older` : ''}; see https://pytorch.org/get-started/locally/)` });
    }
    if (py.torchCuda !== null && f.nvidiaSmi.cuda !== null && versionAbove(py.torchCuda, f.nvidiaSmi.cuda)) {
      warns.push({ severity: 'warn', what: `torch ${py.torch} is built for CUDA ${py.torchCuda} but the driver supports CUDA ${f.nvidiaSmi.cuda} at most`, fix: `upgrade the NVIDIA driver, or: ${exe} -m pip install --force-reinstall torch --index-url ${torchIndex(f.nvidiaSmi.cuda)}` });
    }
  }
  if (f.nvidiaSmi.found && f.gpus.length === 0) {
    warns.push({ severity: 'warn', what: `nvidia-smi is installed but lists no GPU: ${f.nvidiaSmi.message ?? 'no devices'}`, fix: 'check the NVIDIA driver: `nvidia-smi` must list the GPUs (reload the driver, or reboot after a driver update)' });
  }
  if (f.gpus.length > 0 && !ort.providers.includes('cuda') && ort.error === null) {
    warns.push({ severity: 'warn', what: '--ep cuda: the CUDA execution provider of onnxruntime-node is not installed (--backend transformers needs none)', fix: `cd ${root} && ${o.cudaEpInstall}` });
  }
  const mig = f.gpus.filter((g) => g.migMode === 'Enabled').map((g) => g.index);
  if (mig.length) {
    const which = mig.join(',');
    warns.push({ severity: 'warn', what: `MIG is enabled on GPU${mig.length === 1 ? '' : 's'} ${which}: CUDA sees their MIG instances (CUDA_VISIBLE_DEVICES=MIG-...), not whole GPUs, and a model sharded over them gets a slice each`, fix: `sudo nvidia-smi -i ${which} -mig 0, then reset them (sudo nvidia-smi -i ${which} -r) or reboot` });
  }
  return [...errors, ...warns];
}

/** Everything the default run needs is here (no error-severity problem). */
export function doctorOk(problems: readonly DoctorProblem[]): boolean {
  return !problems.some((p) => p.severity === 'error');
}

/** The `--json` document: the facts' keys, then problems and ok. */
export function doctorJson(f: DoctorFacts, problems: readonly DoctorProblem[]): Record<string, unknown> {
  return { ...f, problems, ok: doctorOk(problems) };
}

const dash = (v: string | number | null | undefined): string => (v === null || v === undefined ? '-' : String(v));

/** The plain-text report. */
export function renderDoctorText(f: DoctorFacts, problems: readonly DoctorProblem[]): string {
  const rows: [string, string][] = [];
  rows.push(['gemma-bench', `${f.gemmaBench.version}${f.gemmaBench.gitCommit ? ` (git ${f.gemmaBench.gitCommit.slice(0, 12)})` : ''} in ${f.gemmaBench.root}`]);
  rows.push(['Node', `${f.node.version} (needs ${f.node.required})`]);
  rows.push(['OS', `${f.os.platform} ${f.os.release} ${f.os.arch}`]);
  rows.push(['CPU', `${f.cpu.model}, ${f.cpu.cores} core${f.cpu.cores === 1 ? '' : 's'}`]);
  rows.push(['Memory', `${f.memoryGiB} GiB`]);
  const smi = f.nvidiaSmi;
  rows.push(['nvidia-smi', smi.found ? `driver ${dash(smi.driver)}, CUDA ${dash(smi.cuda)}${smi.message ? ` (${smi.message})` : ''}` : 'not found (no NVIDIA driver tools on PATH)']);
  if (f.gpus.length === 0) rows.push(['GPUs', 'none: the default run uses the CPU']);
  for (const g of f.gpus) {
    rows.push([`GPU ${g.index}`, `${dash(g.name)}, ${g.memTotalMiB === null ? '-' : `${(g.memTotalMiB / 1024).toFixed(1)} GiB`}, PCI ${dash(g.pciBusId)}, MIG ${g.migMode ?? 'n/a'}`]);
  }
  const py = f.python;
  if (py.error !== null) rows.push(['Python', `${py.path}: ${py.error}`]);
  else {
    const cuda = py.cudaAvailable === null ? '-' : py.cudaAvailable ? `${py.cudaDevices} device${py.cudaDevices === 1 ? '' : 's'}${py.torchCuda ? ` (torch CUDA ${py.torchCuda})` : ''}` : `none${py.torchCuda === null && py.torch !== null ? ' (CPU-only torch)' : ''}`;
    rows.push(['Python', `${py.executable ?? py.path} ${dash(py.version)}: torch ${dash(py.torch)}, transformers ${dash(py.transformers)}, accelerate ${dash(py.accelerate)}, flash-attn ${dash(py.flashAttn)}, numpy ${dash(py.numpy)}; CUDA ${cuda}`]);
  }
  const ort = f.onnxruntime;
  rows.push(['onnxruntime', ort.error !== null ? `cannot be loaded: ${ort.error}` : `${dash(ort.version)}: ${ort.providers.join(', ')}${ort.notInstalled.length ? ` (not installed: ${ort.notInstalled.join(', ')})` : ''}`]);
  rows.push(['Data dir', `${f.dataDir.path} (${f.dataDir.writable ? (f.dataDir.exists ? 'writable' : 'will be created') : 'NOT writable'})`]);
  for (const e of f.endpoints) rows.push([`Endpoint`, `${e.url}: ${e.reachable ? `serves ${e.models.join(', ') || 'no models'}` : `NOT reachable: ${e.error}`}`]);
  const w = Math.max(...rows.map(([k]) => k.length)) + 2;
  const out = [`gemma-bench doctor`, '', ...rows.map(([k, v]) => `  ${k.padEnd(w)}${v}`), ''];
  if (problems.length) {
    out.push('Problems:');
    for (const p of problems) out.push(`  ${p.severity === 'error' ? 'ERROR' : 'warn '} ${p.what}`, `        fix: ${p.fix}`);
    out.push('');
  }
  out.push(doctorOk(problems) ? 'OK: everything the default run needs is here (`gemma-bench run`: the onnx backend on the CPU, the built-in tiny model).' : 'NOT OK: fix the errors above.');
  return out.join('\n') + '\n';
}
