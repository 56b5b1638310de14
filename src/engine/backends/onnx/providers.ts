// onnxruntime-node's execution providers as this installation has them: the ones built into its binding (cpu, and
// webgpu on some platforms) and the ones whose shared library was installed beside it (CUDA, TensorRT: only with
// ONNXRUNTIME_NODE_INSTALL=cuda12 at install time, as .npmrc skips that download). `doctor` lists them; `--ep cuda`
// checks for CUDA before anything loads. Loads onnxruntime-node's native binding (not an InferenceSession).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface OnnxProviders {
  /** onnxruntime-node's version; null when it cannot be loaded. */
  readonly version: string | null;
  /** Execution providers that can be used here, e.g. ["cpu", "webgpu"] or ["cpu", "webgpu", "cuda"]. */
  readonly providers: readonly string[];
  /** Providers this build knows but whose library is not installed, e.g. ["cuda", "tensorrt"]. */
  readonly notInstalled: readonly string[];
  /** Why onnxruntime-node could not be loaded, or null. */
  readonly error: string | null;
}

/** How to install the CUDA execution provider (run in gemma-bench's directory, on a machine with internet access). */
export const CUDA_EP_INSTALL = 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js';

interface OrtModule {
  listSupportedBackends(): { name: string; bundled: boolean }[];
  env: { versions?: { node?: string; common?: string } };
}

/** The shared library a non-bundled provider needs, as onnxruntime-node's install script places it. */
function providerLibrary(name: string): string {
  if (process.platform === 'win32') return `onnxruntime_providers_${name}.dll`;
  if (process.platform === 'darwin') return `libonnxruntime_providers_${name}.dylib`;
  return `libonnxruntime_providers_${name}.so`;
}

let cached: OnnxProviders | null = null;

/** The providers of the installed onnxruntime-node (cached: the installation does not change under a process). */
export function onnxProviders(): OnnxProviders {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    const ort = require('onnxruntime-node') as OrtModule;
    const binDir = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
    const providers: string[] = [];
    const notInstalled: string[] = [];
    for (const b of ort.listSupportedBackends()) {
      if (b.bundled || existsSync(join(binDir, providerLibrary(b.name)))) providers.push(b.name);
      else notInstalled.push(b.name);
    }
    cached = { version: ort.env.versions?.node ?? null, providers, notInstalled, error: null };
  } catch (err) {
    cached = { version: null, providers: [], notInstalled: [], error: (err as Error).message.split('\n')[0] };
  }
  return cached;
}

/** The message for `--ep cuda` where the CUDA execution provider is missing. */
export function cudaProviderMissingMessage(p: OnnxProviders): string {
  const have = p.error !== null ? `onnxruntime-node could not be loaded: ${p.error}` : `onnxruntime-node ${p.version ?? '?'} here has ${p.providers.join(', ') || 'none'}`;
  return (
    `--ep cuda: the CUDA execution provider of onnxruntime-node is not installed (${have}). ` +
    `To install it, run in gemma-bench's directory on a machine with internet access: ${CUDA_EP_INSTALL} ` +
    `(it needs the CUDA 12 and cuDNN 9 libraries). Or use --backend transformers, which runs on the GPUs through PyTorch and needs no execution provider.`
  );
}
