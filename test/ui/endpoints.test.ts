// The Endpoints field's check (openai backend): entries split on spaces and commas, each an http(s) base URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkEndpoints, endpointProblem, endpointsProblem, splitEndpoints } from '../../src/ui/endpoints.js';

test('entries are split on spaces and commas, empty pieces dropped', () => {
  assert.deepEqual(splitEndpoints(''), []);
  assert.deepEqual(splitEndpoints('  , ,'), []);
  assert.deepEqual(splitEndpoints('http://127.0.0.1:8000 http://10.0.0.2:8000'), ['http://127.0.0.1:8000', 'http://10.0.0.2:8000']);
  assert.deepEqual(splitEndpoints(' http://a:1,http://b:2 ,  https://c/x\thttp://d '), ['http://a:1', 'http://b:2', 'https://c/x', 'http://d']);
});

test('each entry must be an http(s) URL with a host and no query or fragment', () => {
  for (const ok of ['http://127.0.0.1:8000', 'https://host', 'http://10.0.0.2:8000/', 'http://host:8000/v1', 'https://user:pw@host/prefix', 'http://[::1]:8000']) {
    assert.equal(endpointProblem(ok), null, ok);
  }
  assert.equal(endpointProblem('localhost:8000'), '"localhost:8000" is not an http(s) URL');
  assert.equal(endpointProblem('127.0.0.1:8000'), '"127.0.0.1:8000" is not an http(s) URL');
  assert.equal(endpointProblem('host'), '"host" is not an http(s) URL');
  assert.match(endpointProblem('ftp://host')!, /not an http\(s\) URL/);
  assert.match(endpointProblem('http://')!, /not an http\(s\) URL/);
  assert.match(endpointProblem('http://host:8000/v1?x=1')!, /a base URL has no query or fragment/);
  assert.match(endpointProblem('http://host#top')!, /no query or fragment/);
  assert.match(endpointProblem('http://host?')!, /no query or fragment/);
});

test('the whole field: empty, the count, or the first bad entry (numbered when there are several)', () => {
  assert.deepEqual(checkEndpoints(' '), { state: 'empty', urls: [], message: 'space- or comma-separated base URLs' });
  assert.deepEqual(checkEndpoints('http://127.0.0.1:8000'), { state: 'ok', urls: ['http://127.0.0.1:8000'], message: '1 endpoint (one replica each)' });
  assert.deepEqual(checkEndpoints('http://127.0.0.1:8000, http://10.0.0.2:8000'), { state: 'ok', urls: ['http://127.0.0.1:8000', 'http://10.0.0.2:8000'], message: '2 endpoints (one replica each)' });
  const bad = checkEndpoints('http://a:1 b:2 c');
  assert.equal(bad.state, 'bad');
  assert.equal(bad.message, 'entry 2: "b:2" is not an http(s) URL');
  assert.equal(checkEndpoints('x').message, '"x" is not an http(s) URL');
});

test('a run needs at least one valid endpoint', () => {
  assert.equal(endpointsProblem(''), 'endpoints: the openai backend needs at least one server URL (e.g. http://127.0.0.1:8000)');
  assert.equal(endpointsProblem('http://a:1 nope'), 'endpoints: entry 2: "nope" is not an http(s) URL');
  assert.equal(endpointsProblem('http://a:1,https://b'), null);
});
