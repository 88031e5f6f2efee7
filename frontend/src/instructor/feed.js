// Polling the class's monitor feed: GET /api/classes/{id}/monitor?since=<cursor> with the
// previous ETag as If-None-Match. 304 means nothing changed (no body); otherwise the answer
// carries the next cursor. One request at a time (a timer chain, never overlapping); slower
// while the tab is hidden, backing off while the server cannot be reached; stop() ends it.
import { api } from "../lib/api.js";
import { classApi } from "./shared.js";

const HIDDEN_INTERVAL = 10_000;
const MAX_BACKOFF = 30_000;

/**
 * Start polling. `interval()` gives the delay in ms before the next poll. `onFeed(feed)` gets
 * every new answer; `onError(error, failures)` every failure; `onRecover()` the first success
 * after failures. A 403/404 (class deleted or not yours) stops the polling after `onError`.
 * Returns {stop(), now()} (now() polls at once unless a poll is running).
 */
export function watchFeed(classId, { interval, onFeed, onError, onRecover }) {
  let cursor = null;
  let etag = null;
  let timer = 0;
  let stopped = false;
  let running = false;
  let failures = 0;
  let controller = null;

  function schedule(delay) {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(poll, delay);
  }

  function nextDelay() {
    if (failures) return Math.min(MAX_BACKOFF, 2000 * 2 ** (failures - 1));
    return document.hidden ? HIDDEN_INTERVAL : interval();
  }

  async function poll() {
    if (stopped || running) return;
    running = true;
    controller = new AbortController();
    try {
      const response = await api(classApi(classId, "/monitor"), {
        raw: true,
        query: { since: cursor ?? undefined },
        headers: etag ? { "If-None-Match": etag } : {},
        signal: controller.signal,
      });
      if (stopped) return;
      if (response.status !== 304) {
        const feed = await response.json();
        if (stopped) return;
        etag = response.headers.get("ETag");
        cursor = feed.cursor;
        onFeed(feed);
      }
      if (failures) {
        failures = 0;
        onRecover?.();
      }
    } catch (error) {
      if (stopped || error?.name === "AbortError") return;
      if (error?.code === "invalid_cursor") {
        cursor = null;
        etag = null;
      } else {
        failures += 1;
      }
      onError?.(error, failures);
      if (error?.status === 403 || error?.status === 404 || error?.status === 401) {
        stopped = true;
        return;
      }
    } finally {
      running = false;
      controller = null;
    }
    schedule(nextDelay());
  }

  function onVisible() {
    if (!document.hidden) now();
  }

  function now() {
    if (stopped || running) return;
    clearTimeout(timer);
    poll();
  }

  document.addEventListener("visibilitychange", onVisible);
  poll();
  return {
    now,
    stop() {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
      document.removeEventListener("visibilitychange", onVisible);
    },
  };
}
