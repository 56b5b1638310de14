// The chart library the HTML reports inline: uPlot's minified browser build and its stylesheet, read from the
// installed npm package (never from the network), once per process. uPlot was chosen for size and speed: 51 KB
// minified (22 KB gzipped) against Chart.js's 210 KB, and it draws tens of thousands of points to a canvas in
// milliseconds, which a 10,000-request latency scatter needs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ChartLibrary } from './page.js';

let cached: ChartLibrary | null = null;

/** uPlot's iife build and CSS from node_modules. Throws, naming the package, when it is not installed. */
export function loadChartLibrary(): ChartLibrary {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    // uplot's package.json has no "exports" map, so its files resolve directly.
    dir = dirname(require.resolve('uplot/package.json'));
  } catch {
    throw new Error('the HTML report needs the npm package "uplot", which is not installed: run `npm install` in the gemma-bench directory');
  }
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  cached = {
    name: 'uPlot',
    version: pkg.version,
    js: readFileSync(join(dir, 'dist', 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(join(dir, 'dist', 'uPlot.min.css'), 'utf8'),
  };
  return cached;
}
