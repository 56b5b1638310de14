// Unique-image preparation at scale: N requests over the built-in synthetic document set (8 images from 1024x1024
// to 4000x1000), every request its own one-bit variant, encoded before the run. Reports the time, the base64 bytes
// written and the peak resident set size, for PNG zlib levels 1 and 6: memory must stay bounded by the encoder
// concurrency, never by the request count.
//   node dist/bench/unique-images.js [requests=1000] [concurrency=4]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../src/engine/backends/openai/unique-images.js';
import { ensureSyntheticSet } from '../src/engine/synthetic.js';

const requests = Number(process.argv[2] ?? 1000);
const concurrency = Number(process.argv[3] ?? 4);
const home = mkdtempSync(join(tmpdir(), 'gb-bench-uniq-'));
const sources = await ensureSyntheticSet(1, 8, { ...process.env, GEMMA_BENCH_HOME: home });
const per = Math.ceil(requests / sources.length);
const baseRss = process.memoryUsage().rss / 1048576;
for (const level of [1, 6]) {
  const store = await ImageStore.prepare({ sources, unique: true, variantsPerImage: per, concurrency, compressionLevel: level });
  const s = store.stats;
  console.log(
    `zlib ${level}: ${s.files} variants of ${sources.length} images in ${(s.prepareMs / 1000).toFixed(1)} s ` +
      `(${(s.prepareMs / s.files).toFixed(1)} ms each, concurrency ${concurrency}), ${(s.base64Bytes / 1048576).toFixed(0)} MiB base64 on disk, ` +
      `peak RSS ${s.peakRssMiB} MiB (process started at ${baseRss.toFixed(0)} MiB)`,
  );
  await store.close();
}
rmSync(home, { recursive: true, force: true });
