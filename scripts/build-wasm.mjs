// Compiles the AssemblyScript resampling kernels (assembly/resample.ts) to build/resample.wasm, which
// src/panscan/resample.ts loads at runtime. Exits non-zero on any compiler diagnostic so `npm run build`
// fails loudly instead of shipping a stale or missing module.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'build', 'resample.wasm');
mkdirSync(dirname(outFile), { recursive: true });
rmSync(outFile, { force: true }); // never leave a stale module behind a failed build

const args = [
  join(root, 'assembly', 'resample.ts'),
  '--outFile', outFile,
  '--textFile', join(root, 'build', 'resample.wat'),
  '--runtime', 'stub', // no GC: the kernels never allocate, the host manages linear memory
  '--enable', 'simd',
  '--optimizeLevel', '3',
  '--shrinkLevel', '0',
  '--noAssert',
  '--initialMemory', '1',
];

const { error, stderr } = await asc.main(args, {});
const diagnostics = stderr.toString();
if (error) {
  process.stderr.write(diagnostics);
  process.stderr.write(`build-wasm: asc failed: ${error.message}\n`);
  process.exit(1);
}
if (/\bERROR\b/.test(diagnostics)) {
  process.stderr.write(diagnostics);
  process.stderr.write('build-wasm: asc reported errors\n');
  process.exit(1);
}
if (diagnostics.trim() !== '') process.stderr.write(diagnostics);
process.stdout.write(`build-wasm: wrote ${outFile}\n`);
