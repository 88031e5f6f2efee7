// The one way the browser talks to the server: JSON over fetch with the bearer token.
// Errors become ApiError with the server's stable `code` and readable message.
const TOKEN_KEY = "eduverse.token";

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export function token() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

const unauthorizedListeners = new Set();
/** Called when the server says the token is no longer good (401 on an authed call). */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
}

/**
 * Call the API. `options`: method, body (JSON-encoded), query (object), headers, raw (return
 * the Response itself, e.g. for CSV or ETag polling), signal.
 */
export async function api(path, options = {}) {
  const { method = "GET", body, query, headers = {}, raw = false, signal } = options;
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, v);
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  const sent = { Accept: "application/json", ...headers };
  const auth = token();
  if (auth) sent.Authorization = `Bearer ${auth}`;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The server could not be reached.", null);
  }
  if (raw && (response.ok || response.status === 304)) return response;
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    if (response.status === 401 && auth) for (const l of unauthorizedListeners) l();
    throw new ApiError(
      response.status,
      data?.code ?? `http_${response.status}`,
      data?.error ?? response.statusText,
      data,
    );
  }
  return data;
}

/** Download a file from an authed endpoint (CSV exports) under `filename`. */
export async function download(path, filename) {
  const response = await api(path, { raw: true, headers: { Accept: "text/csv" } });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
