// Every backend gemma-bench can run, in one list: adding a backend is a folder under src/engine/backends/ with a
// definition.ts (its flags, typed options and a lazy factory) plus one line here. The run specification's backend
// union, the CLI's backend flags and the interactive app's backend choice are all derived from this list.
import type { BackendDefinition } from '../backend.js';
import { onnxDefinition } from './onnx/definition.js';
import { openaiDefinition } from './openai/definition.js';
import { transformersDefinition } from './transformers/definition.js';

export const BACKEND_DEFINITIONS = [onnxDefinition, transformersDefinition, openaiDefinition] as const;

type Definitions = (typeof BACKEND_DEFINITIONS)[number];
export type BackendName = Definitions['name'];
export type BackendOptionsOf<N extends BackendName> = Extract<Definitions, { name: N }> extends BackendDefinition<N, infer O> ? O : never;

export const BACKEND_NAMES = BACKEND_DEFINITIONS.map((b) => b.name) as readonly BackendName[];
export const DEFAULT_BACKEND: BackendName = 'onnx';

export function backendDefinition(name: string): BackendDefinition<BackendName, unknown> {
  const d = BACKEND_DEFINITIONS.find((b) => b.name === name);
  if (!d) throw new Error(`unknown backend "${name}"; backends are ${BACKEND_NAMES.join(', ')}`);
  return d as BackendDefinition<BackendName, unknown>;
}
