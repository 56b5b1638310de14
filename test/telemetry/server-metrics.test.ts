import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePrometheusText } from '../../src/telemetry/prometheus.js';
import { PageSampler, type ScrapeProblem } from '../../src/telemetry/remote-sampler.js';
import { ratesBetween, serverSample, type ServerMetricsSample } from '../../src/telemetry/server-metrics.js';
import { METRICS_DIR, SseReplayer } from '../helpers/sse-replayer.js';

const text = (name: string) => readFileSync(join(METRICS_DIR, name), 'utf8');
const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-9, `${a} != ${b}`);

describe('server metrics from one scrape', () => {
  it('vLLM v1 names, summed over data-parallel engines (the _created siblings ignored)', () => {
    const s = serverSample(parsePrometheusText(text('vllm-v1-assembled-a.prom')), 'http://h:8000', 1000);
    assert.equal(s.kind, 'vllm');
    assert.equal(s.running, 23);
    assert.equal(s.waiting, 3);
    close(s.kvCacheUsage, 0.375);
    assert.equal(s.prefixCacheQueriesTotal, 78000);
    assert.equal(s.prefixCacheHitsTotal, 1800);
    assert.equal(s.mmCacheQueriesTotal, 118);
    assert.equal(s.mmCacheHitsTotal, 0);
    assert.equal(s.preemptionsTotal, 1);
    assert.equal(s.promptTokensTotal, 176000);
    assert.equal(s.generationTokensTotal, 5900);
    assert.equal(s.cacheHitRate, null);
  });

  it('falls back to vllm:gpu_cache_usage_perc, and reads the recorded design-doc page', () => {
    const old = serverSample(parsePrometheusText('vllm:gpu_cache_usage_perc{model_name="m"} 0.25\nvllm:num_requests_running{model_name="m"} 2\n'), 'e', 0);
    close(old.kvCacheUsage, 0.25);
    const doc = serverSample(parsePrometheusText(text('vllm-design-doc.prom')), 'e', 0);
    assert.equal(doc.running, 8);
    assert.equal(doc.generationTokensTotal, 27453);
    assert.equal(doc.waiting, null);
    assert.equal(doc.kvCacheUsage, null);
  });

  it('SGLang names from the recorded production-metrics page', () => {
    const s = serverSample(parsePrometheusText(text('sglang-production-metrics.prom')), 'http://s:30000', 0);
    assert.equal(s.kind, 'sglang');
    assert.equal(s.running, 162);
    assert.equal(s.waiting, 2826);
    close(s.kvCacheUsage, 0.28);
    close(s.cacheHitRate, 0.007507552643049313);
    close(s.genThroughputTokS, 86.50814177726902);
    assert.equal(s.promptTokensTotal, 8128902);
    assert.equal(s.generationTokensTotal, 7557572);
    assert.equal(s.prefixCacheQueriesTotal, null);
  });
});

describe('rates between two scrapes', () => {
  const a = serverSample(parsePrometheusText(text('vllm-v1-assembled-a.prom')), 'e', 10_000);
  const b = serverSample(parsePrometheusText(text('vllm-v1-assembled-b.prom')), 'e', 12_000);
  it('derives token rates and cache hit rates from counter deltas', () => {
    const r = ratesBetween(a, b);
    assert.equal(r.intervalS, 2);
    close(r.promptTokensPerS, 7500);
    close(r.generationTokensPerS, 800);
    close(r.prefixCacheHitRate, 600 / 8000);
    close(r.mmCacheHitRate, 1 / 8);
    assert.equal(r.preemptions, 2);
    assert.equal(r.counterReset, false);
  });
  it('says so when a counter went down (server restart) instead of reporting negative rates', () => {
    const r = ratesBetween(b, { ...a, atMs: 14_000 } as ServerMetricsSample);
    assert.equal(r.counterReset, true);
    assert.equal(r.promptTokensPerS, null);
    assert.equal(r.prefixCacheHitRate, null);
  });
  it('has no hit rate without queries', () => {
    const r = ratesBetween(a, { ...a, atMs: 11_000 });
    assert.equal(r.prefixCacheHitRate, null);
    assert.equal(r.promptTokensPerS, 0);
  });
});

describe('PageSampler', () => {
  it('scrapes {base}/metrics, says once when an endpoint has none, and notices when it comes back', async () => {
    const withMetrics = await SseReplayer.start({ metrics: text('vllm-v1-assembled-a.prom') });
    const without = await SseReplayer.start({ metrics: null });
    const samples: ServerMetricsSample[] = [];
    const problems: ScrapeProblem[] = [];
    const targets = [withMetrics, without].map((r) => ({ url: new URL(`${r.url}/metrics`), display: r.url }));
    const sampler = new PageSampler({ targets, map: (page, t, at) => serverSample(page, t.display, at), onSample: (s) => samples.push(s), onProblem: (p) => problems.push(p) });
    try {
      await sampler.scrapeAll();
      await sampler.scrapeAll();
      assert.equal(samples.length, 2);
      assert.equal(samples[0].running, 23);
      assert.equal(samples[0].endpoint, withMetrics.url);
      assert.equal(problems.length, 1, 'the missing /metrics is said once');
      assert.match(problems[0].message, /cannot scrape \/metrics: HTTP 404 Not Found \(no metrics page/);
      without.setOptions({ metrics: text('sglang-production-metrics.prom') });
      await sampler.scrapeAll();
      assert.ok(problems.some((p) => /answers again/.test(p.message)));
      assert.equal(sampler.latest(without.url)?.kind, 'sglang');
      assert.equal(without.requests.filter((q) => q.path === '/metrics').length, 3);
    } finally {
      sampler.stop();
      await withMetrics.close();
      await without.close();
    }
  });

  it('runs on its interval and stops (bounded: one scrape per target in flight)', async () => {
    const rep = await SseReplayer.start({ metrics: text('vllm-v1-assembled-b.prom') });
    const seen: ServerMetricsSample[] = [];
    const sampler = new PageSampler({ targets: [{ url: new URL(`${rep.url}/metrics`), display: rep.url }], intervalMs: 20, map: (p, t, at) => serverSample(p, t.display, at), onSample: (s) => seen.push(s) });
    sampler.start();
    await new Promise((r) => setTimeout(r, 150));
    sampler.stop();
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 60));
    await rep.close();
    assert.ok(n >= 2, `scraped ${n} times`);
    assert.equal(seen.length, n, 'no scrape after stop');
    assert.equal(seen[0].running, 31);
  });
});
