// Run code in the browser (Pyodide in a worker) with a Stop that really stops: the worker is
// terminated and a new one starts on the next Run. When workers, WebAssembly or the runtime
// are unavailable, Run falls back to the server's POST /api/run (nothing is recorded there).
import { api } from "./api.js";
import { manifest } from "./assets.js";

const LOAD_TIMEOUT_MS = 60_000;

function browserCanRun() {
  return typeof Worker !== "undefined" && typeof WebAssembly !== "undefined" && Boolean(manifest()["run-worker.js"]);
}

export class Runner {
  constructor() {
    this.worker = null;
    this.pending = null;
    this.nextId = 1;
    this.loaded = false;
    this.forceServer = !browserCanRun();
  }

  get mode() {
    return this.forceServer ? "server" : "browser";
  }

  /**
   * Run `code`. Callbacks: onOutput(text, stream), onStatus("loading" | "running").
   * Resolves {ok, error?, ms, where: "browser" | "server", stopped?}.
   */
  run(code, { onOutput = () => {}, onStatus = () => {}, locale } = {}) {
    this.stop();
    if (this.forceServer) return this.runOnServer(code, { onOutput, onStatus, locale });
    if (!this.worker) {
      this.worker = new Worker(`/static/build/${manifest()["run-worker.js"]}`, { type: "module" });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = this.loaded
        ? null
        : setTimeout(() => this.giveUp(id, code, { onOutput, onStatus, locale }, resolve), LOAD_TIMEOUT_MS);
      this.pending = { id, resolve, timer };
      this.worker.onmessage = (event) => {
        const message = event.data;
        if (message.id !== id) return;
        if (message.type === "stdout" || message.type === "stderr") onOutput(message.text, message.type);
        else if (message.type === "status") {
          if (message.status === "running") {
            this.loaded = true;
            clearTimeout(timer);
          }
          onStatus(message.status);
        } else if (message.type === "done") {
          clearTimeout(timer);
          this.pending = null;
          if (message.unavailable) {
            this.forceServer = true;
            this.runOnServer(code, { onOutput, onStatus, locale }).then(resolve);
            return;
          }
          resolve({ ok: message.ok, error: message.error, ms: message.ms, where: "browser" });
        }
      };
      this.worker.onerror = () => {
        clearTimeout(timer);
        this.terminate();
        this.forceServer = true;
        this.runOnServer(code, { onOutput, onStatus, locale }).then(resolve);
      };
      this.worker.postMessage({ type: "run", id, code });
    });
  }

  giveUp(id, code, callbacks, resolve) {
    if (this.pending?.id !== id) return;
    this.terminate();
    this.forceServer = true;
    this.runOnServer(code, callbacks).then(resolve);
  }

  async runOnServer(code, { onOutput, onStatus, locale }) {
    onStatus("running");
    const controller = new AbortController();
    this.pending = { id: this.nextId++, controller, resolve: null };
    try {
      const answer = await api("/api/run", { method: "POST", body: { code, locale }, signal: controller.signal });
      if (answer.stdout) onOutput(answer.stdout, "stdout");
      const ok = answer.outcome === "passed";
      return { ok, error: ok ? null : answer.message, ms: answer.duration_ms, where: "server" };
    } catch (error) {
      if (error.name === "AbortError") return { ok: false, stopped: true, where: "server" };
      return { ok: false, error: error.message, where: "server" };
    } finally {
      this.pending = null;
    }
  }

  /** Stop the running code: terminate the worker (or abort the server request). */
  stop() {
    const pending = this.pending;
    if (!pending) return false;
    this.pending = null;
    if (pending.controller) pending.controller.abort();
    else {
      clearTimeout(pending.timer);
      this.terminate();
      pending.resolve({ ok: false, stopped: true, where: "browser" });
    }
    return true;
  }

  terminate() {
    this.worker?.terminate();
    this.worker = null;
    this.loaded = false;
  }
}
