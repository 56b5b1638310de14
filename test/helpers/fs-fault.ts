// Fault injection for file-system calls without hooks in production code: replaces a function of node:fs/promises
// and re-syncs the builtin module's ESM bindings (module.syncBuiltinESMExports), so code that imported it by name
// sees the replacement; restores it afterwards. Also usable in a child process (see faultFsScript).
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

type Fsp = typeof fsp;

export async function withFsFault<K extends keyof Fsp, T>(name: K, impl: Fsp[K], fn: () => Promise<T>): Promise<T> {
  const original = fsp[name];
  (fsp as Record<K, Fsp[K]>)[name] = impl;
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    (fsp as Record<K, Fsp[K]>)[name] = original;
    syncBuiltinESMExports();
  }
}

/** Lines for a child's ESM script that make `fs/promises.<name>` run `body` (e.g. kill the process) from then on. */
export function faultFsScript(name: keyof Fsp, body: string): string {
  return `import __fsp from 'node:fs/promises'; import { syncBuiltinESMExports as __sync } from 'node:module';\n__fsp.${String(name)} = async () => { ${body} }; __sync();\n`;
}
