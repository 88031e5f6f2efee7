// Who is logged in: the token (in api.js) plus GET /api/me: {user, class, pack_id}.
import { api, setToken, token } from "./api.js";

let me = null;
const listeners = new Set();

export function session() {
  return me;
}

export function onSessionChange(listener) {
  listeners.add(listener);
}

function changed() {
  for (const listener of listeners) listener(me);
}

/** Reload GET /api/me (after joining a class, say). */
export async function refresh() {
  me = await api("/api/me");
  changed();
  return me;
}

/** Load the user for a stored token; a dead token is forgotten. */
export async function restore() {
  if (!token()) return null;
  try {
    me = await api("/api/me");
  } catch {
    setToken(null);
    me = null;
  }
  changed();
  return me;
}

/** Store the token an auth endpoint returned and load the user. */
export async function begin(authResponse) {
  setToken(authResponse.token);
  me = await api("/api/me");
  changed();
  return me;
}

export async function end() {
  try {
    if (token()) await api("/api/auth/logout", { method: "POST" });
  } catch {
    // The token may already be dead; forgetting it locally is what matters.
  }
  setToken(null);
  me = null;
  changed();
}

export function forget() {
  setToken(null);
  me = null;
  changed();
}

export function homeFor(current) {
  if (!current) return "/login";
  return current.user.role === "instructor" ? "/instructor" : "/learn";
}
