// The home screen's Endpoints field (the openai backend): server base URLs separated by spaces or commas, checked
// as typed. Pure: no I/O, no React. Only the form's shape is checked here (each entry an http(s) URL with a
// host); whether a server answers there is the backend's business when the run starts.

/** The backend whose form shows the Endpoints field. */
export const OPENAI_BACKEND = 'openai';

/** An example for the field's messages. */
export const ENDPOINT_EXAMPLE = 'http://127.0.0.1:8000';

export type EndpointsCheck =
  /** Nothing typed yet: not valid for a run, but not an error to show in red either. */
  | { readonly state: 'empty'; readonly urls: readonly []; readonly message: string }
  | { readonly state: 'ok'; readonly urls: readonly string[]; readonly message: string }
  | { readonly state: 'bad'; readonly urls: readonly string[]; readonly message: string };

/** The entries of the field: split on spaces and commas, empty pieces dropped. */
export function splitEndpoints(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s !== '');
}

/** Why one entry is not an http(s) base URL, or null when it is one. */
export function endpointProblem(entry: string): string | null {
  let u: URL;
  try {
    u = new URL(entry);
  } catch {
    return `"${entry}" is not an http(s) URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${entry}" is not an http(s) URL`;
  if (u.hostname === '') return `"${entry}" has no host`;
  if (u.search !== '' || u.hash !== '' || /[?#]/.test(entry)) return `"${entry}": a base URL has no query or fragment`;
  return null;
}

/** Checks the whole field: every entry must be an http(s) URL; the first problem is the message. */
export function checkEndpoints(text: string): EndpointsCheck {
  const urls = splitEndpoints(text);
  if (urls.length === 0) return { state: 'empty', urls: [], message: 'space- or comma-separated base URLs' };
  for (const [i, u] of urls.entries()) {
    const problem = endpointProblem(u);
    if (problem) return { state: 'bad', urls, message: urls.length > 1 ? `entry ${i + 1}: ${problem}` : problem };
  }
  return { state: 'ok', urls, message: `${urls.length} endpoint${urls.length === 1 ? '' : 's'} (one replica each)` };
}

/** Why a run cannot start with these endpoints, or null. */
export function endpointsProblem(text: string): string | null {
  const c = checkEndpoints(text);
  if (c.state === 'empty') return `endpoints: the ${OPENAI_BACKEND} backend needs at least one server URL (e.g. ${ENDPOINT_EXAMPLE})`;
  return c.state === 'bad' ? `endpoints: ${c.message}` : null;
}
