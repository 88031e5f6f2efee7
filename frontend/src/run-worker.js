// The Pyodide worker: loads the self-hosted runtime on the first Run and executes code in
// a fresh namespace each time, streaming what it prints. The page stops runaway code by
// terminating this worker (see lib/runner.js); nothing here can reach the page's DOM.
/* global PYODIDE_PATH */
let pyodideReady = null;
let currentId = null;

function post(message) {
  self.postMessage(message);
}

async function load() {
  const { loadPyodide } = await import(`${PYODIDE_PATH}pyodide.mjs`);
  const pyodide = await loadPyodide({ indexURL: PYODIDE_PATH });
  pyodide.setStdout({ batched: (text) => post({ type: "stdout", id: currentId, text: `${text}\n` }) });
  pyodide.setStderr({ batched: (text) => post({ type: "stderr", id: currentId, text: `${text}\n` }) });
  // input() has no terminal here: say so instead of blocking forever.
  pyodide.setStdin({ error: true });
  return pyodide;
}

function lastLine(message) {
  const lines = String(message).trim().split("\n");
  // Drop the frames inside Pyodide's own machinery; keep the learner's lines and the error.
  const start = lines.findIndex((line) => line.includes('File "<exec>"'));
  return (start >= 0 ? lines.slice(start) : lines.slice(-1)).join("\n");
}

self.onmessage = async (event) => {
  const { type, id, code } = event.data ?? {};
  if (type !== "run") return;
  currentId = id;
  const started = performance.now();
  try {
    if (!pyodideReady) {
      post({ type: "status", id, status: "loading" });
      pyodideReady = load();
    }
    const pyodide = await pyodideReady;
    post({ type: "status", id, status: "running" });
    const namespace = pyodide.globals.get("dict")();
    try {
      await pyodide.runPythonAsync(String(code ?? ""), { globals: namespace, filename: "<exec>" });
      post({ type: "done", id, ok: true, ms: Math.round(performance.now() - started) });
    } finally {
      namespace.destroy();
    }
  } catch (error) {
    const text = error?.type ? lastLine(error.message) : String(error?.message ?? error);
    post({ type: "done", id, ok: false, error: text, ms: Math.round(performance.now() - started), unavailable: !error?.type && !pyodideReady });
  }
};
