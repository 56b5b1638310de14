import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authHeaders, EndpointError, normalizeEndpoint, Redactor } from '../../../../src/engine/backends/openai/models.js';

describe('endpoint URLs', () => {
  it('normalizes a base URL with or without /v1 and trailing slashes', () => {
    for (const input of ['http://10.0.0.5:8000', 'http://10.0.0.5:8000/', 'http://10.0.0.5:8000/v1', 'http://10.0.0.5:8000/v1/', ' http://10.0.0.5:8000//v1// ', '10.0.0.5:8000']) {
      assert.equal(normalizeEndpoint(input).base, 'http://10.0.0.5:8000', input);
    }
    assert.equal(normalizeEndpoint('https://gw.example/serve/gemma/v1/').base, 'https://gw.example/serve/gemma');
  });

  it('never shows credentials and uses them as Basic auth when no key is set', () => {
    const ep = normalizeEndpoint('http://alice:s3cret@host:8000/v1');
    assert.equal(ep.display, 'http://host:8000');
    assert.equal(ep.base.includes('s3cret'), false);
    assert.deepEqual(authHeaders(ep, null), { Authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}` });
    assert.deepEqual(authHeaders(ep, 'sk-key'), { Authorization: 'Bearer sk-key' });
  });

  it('refuses what is not an http(s) base URL, naming it', () => {
    assert.throws(() => normalizeEndpoint('ftp://host/'), EndpointError);
    assert.throws(() => normalizeEndpoint(''), /empty/);
    assert.throws(() => normalizeEndpoint('http://host:8000/v1?x=1'), /query/);
  });
});

describe('Redactor', () => {
  it('scrubs the key, its base64 and URL-encoded forms', () => {
    const key = 'sk-very/secret+key';
    const r = new Redactor([key]);
    const text = `auth ${key} basic ${Buffer.from(key).toString('base64')} url ${encodeURIComponent(key)}`;
    const out = r.redact(text);
    assert.equal(out.includes(key), false);
    assert.equal(out.includes(Buffer.from(key).toString('base64')), false);
    assert.equal(out.includes(encodeURIComponent(key)), false);
    assert.equal(out, 'auth [redacted] basic [redacted] url [redacted]');
  });
});
