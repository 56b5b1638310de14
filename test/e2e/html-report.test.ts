// End to end: the HTML reports in a real browser (headless Chromium, Debian's `chromium` package). The real CLI
// writes a run's report (`runs export ID --format html`), a comparison's and a sweep's (`compare ... --format
// html`) from a temporary GEMMA_BENCH_HOME; a 10,000-request run's report is built in-process. Each page is opened
// from file:// with every request but its own blocked and recorded, and must: draw every chart it describes (a
// canvas with coloured marks in its plotting area), log no error (console, exception, CSP or load error), and
// make no request. UPDATE_SCREENS=1 also writes screenshots of the sweep and run reports for the README to
// test/fixtures/html/ (palette PNGs). Skipped, with the reason, when Chromium is not installed or cannot start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { runReportHtml } from '../../src/report/html/index.js';
import { Chromium, findChromium, openPage, type Page } from '../helpers/chromium.js';
import { homeWith, type Home } from '../helpers/cli-run.js';
import { fakeRun } from '../helpers/fake-run.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { fakeSweep, SWEEP_ID, withCpuAndServerTelemetry, withGpuTelemetry } from '../helpers/report-runs.js';

const SCREENS_DIR = join(REPO_ROOT, 'test', 'fixtures', 'html');
const update = process.env.UPDATE_SCREENS === '1';
const WIDTH = 1200;
/** How long a page may take to draw its charts. */
const READY_TIMEOUT_MS = 30_000;

const RUN = '20261125-140000-balanced-aaaa';
const OTHER = '20261125-150000-doc-centric-bbbb';

const executable = findChromium();
let browser: Chromium | null = null;
let skip: string | false = executable ? false : 'Chromium is not installed (Debian: apt-get install -y chromium; or set CHROMIUM to a Chrome or Chromium binary)';
let home: Home;
const outDir = mkdtempSync(join(tmpdir(), 'gb-html-e2e-'));

before(async () => {
  if (skip) return;
  try {
    browser = await Chromium.launch(executable!);
  } catch (err) {
    skip = (err as Error).message;
    return;
  }
  const run = withGpuTelemetry(fakeRun({ id: RUN, name: 'balanced', requests: 120, failed: 3, replicas: 2, outputTokens: 32, notes: ['2 requests: the server sent no usage; output tokens re-counted from the text'] }));
  home = await homeWith([run, fakeRun({ id: OTHER, name: 'doc-centric', seed: 9, latencyScale: 1.4 }), ...fakeSweep()]);
});

after(async () => {
  await browser?.close();
});

/** Writes a page with the real CLI; returns its file. */
function cliPage(args: readonly string[], name: string): string {
  const out = join(outDir, name);
  const r = home.cli([...args, '--format', 'html', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${out}\n`);
  return out;
}

interface ChartCheck {
  readonly id: string;
  readonly points: number;
  readonly canvas: boolean;
  readonly width: number;
  readonly height: number;
  /** Pixels in the plotting area in a saturated (series) colour: the marks drawn. */
  readonly marks: number;
}

/** Per chart of the page: its canvas, and how many of its plotting area's pixels are in a series colour. */
const CHECK_CHARTS = `(() => {
  const charts = window.gbCharts || [];
  return [...document.querySelectorAll('figure.chart')].map((fig) => {
    const c = charts.find((x) => x.id === fig.id);
    const canvas = fig.querySelector('canvas');
    let marks = 0;
    if (c && canvas) {
      const b = c.u.bbox;
      const img = canvas.getContext('2d').getImageData(Math.floor(b.left), Math.floor(b.top), Math.max(1, Math.floor(b.width)), Math.max(1, Math.floor(b.height))).data;
      for (let i = 0; i < img.length; i += 4) {
        const hi = Math.max(img[i], img[i + 1], img[i + 2]);
        const lo = Math.min(img[i], img[i + 1], img[i + 2]);
        if (img[i + 3] > 0 && hi - lo > 60) marks++;
      }
    }
    return { id: fig.id, points: Number(fig.getAttribute('data-points') || 0), canvas: !!canvas, width: canvas ? canvas.width : 0, height: canvas ? canvas.height : 0, marks };
  });
})()`;

/** Opens the page, waits for its charts, checks every chart drew, no error was logged and no request was made. */
async function checkPage(file: string, expectCharts: readonly string[]): Promise<{ page: Page; charts: ChartCheck[]; readyMs: number }> {
  const url = pathToFileURL(file).href;
  const t0 = performance.now();
  const page = await openPage(browser!, url, WIDTH);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let ready: string | null = null;
  while (Date.now() < deadline && ready === null) {
    ready = await page.evaluate<string | null>(`document.documentElement.getAttribute('data-charts-ready')`);
    if (ready === null) await new Promise((r) => setTimeout(r, 50));
  }
  const readyMs = performance.now() - t0;
  assert.notEqual(ready, null, `the page's script never finished drawing; errors: ${page.log.errors.join(' | ')}`);
  const charts = await page.evaluate<ChartCheck[]>(CHECK_CHARTS);
  assert.equal(Number(ready), charts.length, 'every figure got a chart');
  const ids = charts.map((c) => c.id);
  for (const id of expectCharts) assert.ok(ids.includes(id), `chart ${id} in ${ids.join(', ')}`);
  for (const c of charts) {
    assert.ok(c.canvas && c.width > 0 && c.height > 0, `${c.id}: a canvas`);
    assert.ok(c.points > 0, `${c.id}: has values`);
    assert.ok(c.marks > 0, `${c.id}: drew marks in its plotting area`);
  }
  // Let anything late (a deferred load, a timer) show itself before judging.
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(page.log.errors, [], 'no console error, exception or CSP violation');
  assert.deepEqual(page.log.requests, [], 'no request besides the page itself');
  return { page, charts, readyMs };
}

/** A small palette PNG of the page's top for the README. */
async function saveScreen(page: Page, name: string, height: number): Promise<void> {
  const png = await page.screenshot(height);
  mkdirSync(SCREENS_DIR, { recursive: true });
  const small = await sharp(png).png({ palette: true, colours: 96, compressionLevel: 9, effort: 10 }).toBuffer();
  writeFileSync(join(SCREENS_DIR, name), small);
}

test('the harness catches a page that logs an error and tries to load from elsewhere (blocked before it is sent)', async (t) => {
  if (skip) return t.skip(skip);
  const file = join(outDir, 'probe.html');
  writeFileSync(file, '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/probe.png"><script>console.error("probe error")</script></body></html>');
  const page = await openPage(browser!, pathToFileURL(file).href, WIDTH);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(page.log.requests, ['http://127.0.0.1:9/probe.png']);
  assert.ok(page.log.errors.some((e) => e.includes('console.error: probe error')), page.log.errors.join(' | '));
  await page.close();
});

test('run report: every chart draws, no error, no request', async (t) => {
  if (skip) return t.skip(skip);
  const file = cliPage(['runs', 'export', RUN], 'run.html');
  const { page, charts, readyMs } = await checkPage(file, ['hist-e2e', 'cdf-e2e', 'hist-ttft', 'cdf-ttft', 'hist-tpot', 'cdf-tpot', 'hist-itl', 'cdf-itl', 'time-latency', 'time-throughput', 'time-queue', 'gpu-r0-util', 'gpu-r0-mem', 'gpu-r0-power', 'gpu-r1-util', 'crops']);
  t.diagnostic(`run report: ${charts.length} charts drawn in ${readyMs.toFixed(0)} ms`);
  if (update) await saveScreen(page, 'run-report.png', 1450);
  await page.close();
});

test('comparison report: the overlaid CDFs draw, no error, no request', async (t) => {
  if (skip) return t.skip(skip);
  const file = cliPage(['compare', RUN, OTHER], 'compare.html');
  const { page, charts } = await checkPage(file, ['cdf-e2e', 'cdf-ttft']);
  assert.equal(charts.length, 2);
  await page.close();
});

test('sweep report: the scatter with its frontier and the CDFs draw, no error, no request', async (t) => {
  if (skip) return t.skip(skip);
  const file = cliPage(['compare', SWEEP_ID], 'sweep.html');
  const { page, readyMs } = await checkPage(file, ['sweep-scatter', 'cdf-e2e', 'cdf-ttft']);
  // The frontier's table lists its points with their knobs.
  const rows = await page.evaluate<number>(`document.querySelectorAll('#frontier table tbody tr').length`);
  assert.ok(rows >= 2, `${rows} frontier rows`);
  t.diagnostic(`sweep report: drawn in ${readyMs.toFixed(0)} ms`);
  if (update) await saveScreen(page, 'sweep-report.png', 1240);
  await page.close();
});

test('a 10,000-request run with CPU and server telemetry: every chart draws, in reasonable time', async (t) => {
  if (skip) return t.skip(skip);
  const run = withCpuAndServerTelemetry(fakeRun({ requests: 10_000, warmup: 4, failed: 25, replicas: 2, outputTokens: 256 }));
  const file = join(outDir, 'big.html');
  const html = runReportHtml(run);
  writeFileSync(file, html);
  const { page, charts, readyMs } = await checkPage(file, ['time-latency', 'cdf-itl', 'cpu-util', 'cpu-mem']);
  assert.ok(charts.some((c) => c.id.startsWith('server-') && c.id.endsWith('-queue')), 'the servers\' charts');
  t.diagnostic(`10,000-request run report: ${(Buffer.byteLength(html) / 1024 / 1024).toFixed(2)} MB, ${charts.length} charts drawn in ${readyMs.toFixed(0)} ms`);
  await page.close();
});
