// The resources a RunSpec names, made ready before the engine runs it: the workload (images discovered or the
// synthetic set built, headers read, crops planned, prompt tokens counted) and the backend (from the registry).
// Composition roots call these; the interactive app calls them from a worker thread so its screen keeps drawing.
import type { RunSpec } from '../config/run-spec.js';
import { preprocessSettings } from '../config/resolve-run-spec.js';
import type { Backend, BackendContext, LogFn } from './backend.js';
import { backendDefinition } from './backends/registry.js';
import { ensureSyntheticSet } from './synthetic.js';
import type { Workload } from './types.js';
import { assertSomeImageUsable, buildWorkload, discoverImages, loadPrompts } from './workload.js';

export async function prepareWorkload(spec: RunSpec, env?: NodeJS.ProcessEnv): Promise<Workload> {
  const prompts = loadPrompts(spec.workload.prompts ?? undefined);
  const preprocess = preprocessSettings(spec);
  const images = spec.workload.images;
  if (images !== null) {
    const { files, skipped } = await discoverImages(images);
    const workload = await buildWorkload(images, files, prompts, preprocess, skipped);
    // Nothing to run on: refused before any model loads (exit 2), every file named with its problem.
    assertSomeImageUsable(workload);
    return workload;
  }
  const count = spec.workload.synthetic;
  const files = await ensureSyntheticSet(spec.seed, count, env);
  return buildWorkload(`synthetic:seed=${spec.seed}:n=${count}`, files, prompts, preprocess, 0);
}

function contextOf(spec: RunSpec, log: LogFn, env?: NodeJS.ProcessEnv): BackendContext {
  return { log, ...(env ? { env } : {}), engine: spec.engine, batchSize: spec.batchSize, seed: spec.seed };
}

/** The backend's slow preparation, if it has one (building the tiny model); safe to run in a worker thread. */
export async function prepareBackend(spec: RunSpec, log: LogFn, env?: NodeJS.ProcessEnv): Promise<void> {
  await backendDefinition(spec.backend.name).prepare?.(spec.backend.options, contextOf(spec, log, env));
}

/** The backend the specification names, created with its options (nothing is started until the engine runs). */
export function createBackend(spec: RunSpec, log: LogFn, env?: NodeJS.ProcessEnv): Promise<Backend> {
  return backendDefinition(spec.backend.name).create(spec.backend.options, contextOf(spec, log, env));
}
