// Hash routes: "#/learn/week/3" matches "/learn/week/:week". A view is
// `async (ctx) => cleanup?` where ctx = {params, query, view (the <main> to fill), session}.
// Leaving a route calls its cleanup (stop timers, abort polls). Views that need a role say
// so and are sent to log in (or home) otherwise.
const routes = [];
let current = null;
let fallback = "/";
let sessionProvider = () => null;
let guard = null;

export function route(pattern, handler, options = {}) {
  const names = [];
  const regex = new RegExp(
    `^${pattern.replace(/\/:(\w+)/g, (_, name) => {
      names.push(name);
      return "/([^/]+)";
    })}$`,
  );
  routes.push({ pattern, regex, names, handler, role: options.role ?? null, public: Boolean(options.public) });
}

export function navigate(path, { replace = false } = {}) {
  const target = `#${path}`;
  if (location.hash === target) {
    render();
    return;
  }
  if (replace) history.replaceState(null, "", target);
  else location.hash = target;
  if (replace) render();
}

export function currentPath() {
  return location.hash.replace(/^#/, "").split("?")[0] || "/";
}

function match(path) {
  for (const r of routes) {
    const m = r.regex.exec(path);
    if (m) {
      const params = {};
      r.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]);
      });
      return { r, params };
    }
  }
  return null;
}

async function render() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, qs = ""] = hash.split("?");
  const view = document.getElementById("view");
  if (current?.cleanup) {
    try {
      current.cleanup();
    } catch (error) {
      console.error(error);
    }
  }
  current = null;
  const found = match(path);
  if (!found) {
    navigate(fallback, { replace: true });
    return;
  }
  const session = sessionProvider();
  const redirect = guard?.(found.r, session);
  if (redirect && redirect !== path) {
    navigate(redirect, { replace: true });
    return;
  }
  const token = {};
  current = token;
  view.replaceChildren();
  view.setAttribute("aria-busy", "true");
  try {
    const cleanup = await found.r.handler({
      params: found.params,
      query: Object.fromEntries(new URLSearchParams(qs)),
      view,
      session,
    });
    if (current === token) token.cleanup = cleanup;
    else if (typeof cleanup === "function") cleanup();
  } finally {
    view.removeAttribute("aria-busy");
  }
  document.dispatchEvent(new CustomEvent("eduverse:routed", { detail: { path } }));
}

/**
 * Start routing. `getSession` returns the current session (or null); `check(route, session)`
 * returns a path to redirect to, or null to allow.
 */
export function startRouter({ getSession, check, home }) {
  sessionProvider = getSession;
  guard = check;
  fallback = home;
  window.addEventListener("hashchange", () => render());
  return render();
}

export function rerender() {
  return render();
}
