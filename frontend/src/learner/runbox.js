// Run code and show what it prints: used by the lecture's examples and the coding screen.
// The Runner (lib/runner.js) runs Pyodide in a worker (the first Run loads it) and falls
// back to the server; Stop terminates the worker, which really ends a runaway loop.
import { h } from "../lib/dom.js";
import { locale, t } from "../lib/i18n.js";

/**
 * Wire `runButton`/`stopButton` to run `getCode()` with `runner`, writing into `output`
 * (a <pre>) and `status` (a polite live region). `onStart` is called when a run begins.
 * Returns {run(), stop()}.
 */
export function runControls({ runner, getCode, output, status, runButton, stopButton, onStart, onEnd }) {
  let generation = 0;
  stopButton.hidden = true;

  function write(text, kind) {
    output.classList.remove("is-empty");
    output.append(kind === "stdout" ? document.createTextNode(text) : h("span", { class: kind, text }));
  }

  async function run() {
    const mine = ++generation;
    output.replaceChildren();
    output.hidden = false;
    delete output.dataset.done;
    status.textContent = t("run.running");
    runButton.disabled = true;
    stopButton.hidden = false;
    stopButton.disabled = false;
    onStart?.();
    let printed = false;
    const result = await runner.run(getCode(), {
      locale: locale(),
      onOutput: (text, stream) => {
        if (mine !== generation) return;
        printed = true;
        write(text, stream === "stderr" ? "stderr" : "stdout");
      },
      onStatus: (value) => {
        if (mine !== generation) return;
        status.textContent = value === "loading" ? t("run.loading") : t("run.running");
        output.dataset.state = value;
      },
    });
    if (mine !== generation) return result;
    runButton.disabled = false;
    stopButton.hidden = true;
    delete output.dataset.state;
    if (result.stopped) {
      write(`\n${t("run.stopped")}\n`, "note");
      status.textContent = t("run.stopped");
    } else {
      if (result.error) write(`${printed ? "\n" : ""}${result.error}\n`, "err");
      else if (!printed) write(`${t("run.noOutput")}\n`, "note");
      const where = result.where === "server" ? ` ${t("run.server")}` : "";
      status.textContent = Number.isFinite(result.ms) ? `${t("run.done", { ms: result.ms })}${where}` : where.trim();
    }
    output.dataset.done = result.stopped ? "stopped" : result.ok ? "ok" : "error";
    onEnd?.(result);
    return result;
  }

  function stop() {
    if (runner.stop()) {
      // The run's promise resolves with `stopped` and finishes the bookkeeping above.
      stopButton.disabled = true;
    }
  }

  runButton.addEventListener("click", () => run());
  stopButton.addEventListener("click", () => stop());
  return { run, stop };
}
