import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePrometheusText, samplesOf, sumOf } from '../../src/telemetry/prometheus.js';
import { METRICS_DIR } from '../helpers/sse-replayer.js';

const page = (name: string) => parsePrometheusText(readFileSync(join(METRICS_DIR, name), 'utf8'));

describe('Prometheus text parser', () => {
  it('reads the recorded SGLang page: every line, types, help, histogram buckets with +Inf', () => {
    const p = page('sglang-production-metrics.prom');
    assert.deepEqual(p.problems, []);
    assert.equal(p.samples.length, 91);
    assert.equal(p.types.get('sglang:time_to_first_token_seconds'), 'histogram');
    assert.equal(p.help.get('sglang:gen_throughput'), 'The generate throughput (token/s)');
    assert.equal(sumOf(p, ['sglang:prompt_tokens_total']), 8.128902e6);
    const inf = samplesOf(p, 'sglang:time_to_first_token_seconds_bucket', { le: '+Inf' });
    assert.equal(inf.length, 1);
    assert.equal(inf[0].value, 11008);
    assert.equal(inf[0].labels.model_name, 'meta-llama/Llama-3.1-8B-Instruct');
    assert.equal(samplesOf(p, 'sglang:func_latency_seconds_bucket', { le: '0.07500000000000001' })[0].value, 14006);
  });

  it('reads the vLLM design-doc page and sums label sets', () => {
    const p = page('vllm-design-doc.prom');
    assert.deepEqual(p.problems, []);
    assert.equal(sumOf(p, ['vllm:request_success_total']), 132);
    assert.equal(sumOf(p, ['vllm:num_requests_running']), 8);
    assert.equal(p.types.get('vllm:generation_tokens_total'), 'counter');
  });

  it('reads DCGM pages, including spaces after label commas and a huge sentinel value', () => {
    const readme = page('dcgm-exporter-readme.prom');
    assert.deepEqual(readme.problems, []);
    assert.equal(readme.samples.length, 3);
    assert.deepEqual(readme.samples[0].labels, { gpu: '0', UUID: 'GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52' });
    assert.equal(readme.samples[2].value, 9223372036854775794);
    const h100 = page('dcgm-h100x8-sampled.prom');
    assert.deepEqual(h100.problems, []);
    assert.equal(h100.samples.length, 30);
    assert.equal(h100.samples[0].labels.pod_uid, '');
  });

  it('handles escapes, timestamps, NaN and Inf, CRLF, a trailing comma, and reports bad lines without losing the rest', () => {
    const p = parsePrometheusText(
      [
        '# TYPE m gauge',
        'm{path="C:\\\\dir",msg="say \\"hi\\"\\nbye",} 1.5 1712000000000',
        'm{a="x"} NaN',
        'm{a="y"} -Inf',
        'm_without_labels 3e2',
        'broken{a="x" 1',
        '{a="x"} 2',
        'bad_value{a="x"} abc',
        '# EOF',
      ].join('\r\n'),
    );
    assert.equal(p.samples.length, 4);
    assert.deepEqual(p.samples[0].labels, { path: 'C:\\dir', msg: 'say "hi"\nbye' });
    assert.equal(p.samples[0].timestampMs, 1712000000000);
    assert.ok(Number.isNaN(p.samples[1].value));
    assert.equal(p.samples[2].value, -Infinity);
    assert.equal(p.samples[3].value, 300);
    assert.deepEqual(p.problems.map((x) => x.lineNumber), [6, 7, 8]);
    assert.match(p.problems[0].message, /expected , or \} after label a/);
    assert.match(p.problems[1].message, /no metric name/);
    assert.match(p.problems[2].message, /bad value "abc"/);
  });
});
