// Calls to the rmaflow API with the signed-in token. The token lives in this tab's
// sessionStorage only: it goes with every call as a bearer token, never as a cookie, and is
// gone when the tab closes.

const TOKEN_KEY = 'rmaflow.token';

// A refusal or failure, with the server's problem (RFC 9457): status, type, detail, pointer.
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// Called when the server no longer takes the token (401), so the console can sign out.
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

// A path with its query: query({status: 'suspended', limit: 50}) -> "?status=suspended&limit=50".
// Empty values are left out.
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function problemOf(response) {
  const type = response.headers.get('content-type') || '';
  if (type.includes('json')) {
    try {
      return await response.json();
    } catch {
      // fall through to a problem made from the status
    }
  }
  const detail = `the server answered ${response.status} ${response.statusText}`;
  return { status: response.status, title: response.statusText, detail };
}

async function call(method, path, { body, accept = 'application/json' } = {}) {
  const headers = { Accept: accept };
  const current = token();
  if (current) headers.Authorization = `Bearer ${current}`;
  const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { title: 'Unreachable', detail: `the server could not be reached (${err.message})` });
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401) onUnauthorized(problem);
    throw new ApiError(response.status, problem);
  }
  return accept === 'application/json' ? response.json() : response.text();
}

export const get = (path) => call('GET', path);
export const getSvg = (path) => call('GET', path, { accept: 'image/svg+xml' });
export const post = (path, body) => call('POST', path, { body });

// The path of an instance's resources: instancePath(id, 'actions', 'retry').
export function instancePath(id, ...rest) {
  return ['/v1/instances', id, ...rest].map((part, i) => (i === 0 ? part : encodeURIComponent(part))).join('/');
}
