// The only way the console talks to the connector: the operator API (spec/operator.yaml),
// same origin, under /operator/v1, with `Authorization: Bearer <key>`.
//
// The key lives in this module variable for the tab's life and nowhere else: not in
// localStorage, sessionStorage, a cookie or the URL. Reloading the tab signs out.
export const API_BASE = '/operator/v1';

let key = null;
let identity = null; // { role: 'viewer' | 'settler' }

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function signedIn() {
  return key !== null;
}

export function role() {
  return identity?.role ?? null;
}

export function isSettler() {
  return identity?.role === 'settler';
}

export function signOut() {
  key = null;
  identity = null;
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const q = params.toString();
  return `${API_BASE}${path}${q ? `?${q}` : ''}`;
}

async function send(method, path, { query, body, accept = 'application/json', withKey = key } = {}) {
  const headers = { accept };
  if (withKey !== null) headers.authorization = `Bearer ${withKey}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The operator API could not be reached');
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** The API's `{code, message}`, or a plain description when the body is something else. */
async function errorOf(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  if (body && typeof body.code === 'string' && typeof body.message === 'string') return new ApiError(res.status, body.code, body.message);
  return new ApiError(res.status, `http_${res.status}`, `The operator API answered ${res.status}`);
}

export async function getJson(path, query) {
  return (await send('GET', path, { query })).json();
}

export async function postJson(path, body) {
  return (await send('POST', path, { body })).json();
}

/**
 * Downloads a file the API serves (a batch's CSV or pain.001): fetched with the key (a
 * plain link could not send the Authorization header), then saved through a Blob's object
 * URL. Answers the file name and size.
 */
export async function download(path, accept, fallbackName) {
  const res = await send('GET', path, { accept });
  const blob = await res.blob();
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // after the click has started the download
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return { name, bytes: blob.size };
}

/**
 * Signs in with a key: the summary must answer (a wrong key is a 401), then the key's role
 * is learnt from the API itself. The contract has no "who am I" operation, so the console
 * asks a settler-only operation with an empty body, which can change nothing: a viewer key
 * is refused with 403 (role checked first), a settler key gets the 400 of the missing
 * `date`. Anything else leaves the page in viewer mode (it shows no action it may not do).
 */
export async function signIn(candidate) {
  await send('GET', '/summary', { withKey: candidate });
  let found = 'viewer';
  try {
    await send('POST', '/reconciliations', { body: {}, withKey: candidate });
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) found = 'settler';
  }
  key = candidate;
  identity = { role: found };
  return identity;
}
