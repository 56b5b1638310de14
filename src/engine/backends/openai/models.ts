// Endpoints: normalizing what the user typed into a base URL (with or without /v1, trailing slashes, a scheme or
// not), the URL shown to people (never with credentials), the API key (read from an environment variable, sent as
// `Authorization: Bearer`, and scrubbed from every message), and GET {base}/v1/models with a 10 s timeout to learn
// the served model id (the given name, or the first id listed, as vllm bench serve does in
// vllm/benchmarks/serve.py get_first_model_from_server). Errors name the URL and the cause.
import type { Agents } from '../../../util/http-get.js';
import { getJson } from './client.js';

export const MODELS_TIMEOUT_S = 10;
export const DEFAULT_API_KEY_ENV = 'OPENAI_API_KEY';

export interface Endpoint {
  /** e.g. "http://10.0.0.5:8000" or "https://host/prefix": no trailing slash, no /v1, no credentials. */
  readonly base: string;
  /** What logs, errors, run files and the UI show: the base URL without credentials. */
  readonly display: string;
  /** user:password from the URL, if any, sent as Basic auth when no API key is set. */
  readonly basicAuth: string | null;
}

export class EndpointError extends Error {
  override name = 'EndpointError';
}

/** "host:8000", "http://host:8000/", "http://host:8000/v1/", "https://u:p@h/x/v1" -> one Endpoint. */
export function normalizeEndpoint(input: string): Endpoint {
  const raw = input.trim();
  if (raw.length === 0) throw new EndpointError('empty endpoint URL');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new EndpointError(`not a URL: ${JSON.stringify(raw.replace(/\/\/[^/@]*@/, '//'))}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new EndpointError(`unsupported scheme ${u.protocol} in ${u.host}: use http:// or https://`);
  if (u.search || u.hash) throw new EndpointError(`endpoint ${u.origin}${u.pathname} must not carry a query or fragment`);
  const basicAuth = u.username || u.password ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : null;
  let path = u.pathname.replace(/\/+$/, '');
  if (/\/v1$/.test(path)) path = path.slice(0, -3);
  path = path.replace(/\/+$/, '');
  const base = `${u.protocol}//${u.host}${path}`;
  return { base, display: base, basicAuth };
}

export function v1Url(ep: Endpoint, tail: string): URL {
  return new URL(`${ep.base}/v1/${tail.replace(/^\/+/, '')}`);
}

export function rootUrl(ep: Endpoint, tail: string): URL {
  return new URL(`${ep.base}/${tail.replace(/^\/+/, '')}`);
}

/** Replaces every occurrence of each secret (and its base64 form inside Basic auth) with "[redacted]". */
export class Redactor {
  private readonly secrets: string[];
  constructor(secrets: readonly (string | null | undefined)[]) {
    const s = new Set<string>();
    for (const x of secrets) {
      if (!x || x.length < 4) continue;
      s.add(x);
      s.add(Buffer.from(x).toString('base64'));
      s.add(encodeURIComponent(x));
    }
    this.secrets = [...s].sort((a, b) => b.length - a.length);
  }
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    return out;
  }
}

/** Request headers for an endpoint: the API key as Bearer, else the URL's own user:password as Basic. */
export function authHeaders(ep: Endpoint, apiKey: string | null): Record<string, string> {
  if (apiKey) return { Authorization: `Bearer ${apiKey}` };
  if (ep.basicAuth) return { Authorization: `Basic ${Buffer.from(ep.basicAuth).toString('base64')}` };
  return {};
}

export interface ServedModel {
  readonly id: string;
  /** Every id the endpoint listed. */
  readonly ids: readonly string[];
  /** The chosen model's entry from /v1/models as the server sent it (owned_by, root, max_model_len, ...). */
  readonly entry: Readonly<Record<string, unknown>>;
}

export type ModelsResult = { readonly ok: true; readonly model: ServedModel } | { readonly ok: false; readonly error: string; readonly refused: boolean };

/** GET {base}/v1/models and pick the served model: `wanted` if listed (or given while the list is empty), else the first. */
export async function fetchServedModel(ep: Endpoint, headers: Readonly<Record<string, string>>, wanted: string | undefined, timeoutS = MODELS_TIMEOUT_S, agents?: Agents): Promise<ModelsResult> {
  const url = v1Url(ep, 'models');
  const r = await getJson(url, headers, timeoutS * 1000, agents);
  const where = `GET ${ep.display}/v1/models`;
  if (!r.ok) return { ok: false, error: `${where} failed: ${r.error}`, refused: r.kind === 'refused' };
  const data = r.json && typeof r.json === 'object' ? (r.json as Record<string, unknown>).data : undefined;
  if (!Array.isArray(data)) return { ok: false, error: `${where} answered without a "data" list (is this an OpenAI-compatible server?)`, refused: false };
  const entries = data.filter((d): d is Record<string, unknown> => !!d && typeof d === 'object' && typeof (d as Record<string, unknown>).id === 'string');
  const ids = entries.map((e) => e.id as string);
  if (wanted !== undefined) {
    const hit = entries.find((e) => e.id === wanted);
    if (hit) return { ok: true, model: { id: wanted, ids, entry: hit } };
    return { ok: false, error: `${where}: the server does not serve model "${wanted}" (it lists ${ids.length === 0 ? 'no models' : ids.map((i) => `"${i}"`).join(', ')})`, refused: false };
  }
  if (entries.length === 0) return { ok: false, error: `${where} lists no models: is the server still loading?`, refused: false };
  return { ok: true, model: { id: ids[0], ids, entry: entries[0] } };
}
