// What the learner pages share: the pack outline and week documents (cached per locale),
// the learner's progress, the chosen track, and what the browser keeps for the learner
// (code per cycle, the last unlocked hints, the last feedback scene).
import { api } from "../lib/api.js";
import { locale } from "../lib/i18n.js";
import { session } from "../lib/session.js";

export const TRACKS = ["beginner", "advanced"];
const TRACK_KEY = "eduverse.track";

export function packId() {
  return session()?.pack_id ?? "logicore";
}

const outlines = new Map();
const weeks = new Map();

/** The pack's outline (cast, weeks with cycle titles, coding intro, finale). */
export function outline(pack = packId()) {
  const key = `${pack}:${locale()}`;
  if (!outlines.has(key)) {
    const loading = api(`/api/packs/${encodeURIComponent(pack)}`, { query: { locale: locale() } }).then((a) => a.pack);
    loading.catch(() => outlines.delete(key));
    outlines.set(key, loading);
  }
  return outlines.get(key);
}

/** A week, ready to play (scenes rendered with the learner's name). */
export function weekDoc(number, pack = packId()) {
  const key = `${pack}:${number}:${locale()}:${session()?.user?.id ?? ""}`;
  if (!weeks.has(key)) {
    const loading = api(`/api/packs/${encodeURIComponent(pack)}/weeks/${number}`, { query: { locale: locale() } }).then(
      (a) => a.week,
    );
    loading.catch(() => weeks.delete(key));
    weeks.set(key, loading);
  }
  return weeks.get(key);
}

export async function loadProgress(pack = packId()) {
  const answer = await api("/api/progress", { query: { pack } });
  return answer.progress;
}

export function track() {
  const saved = localStorage.getItem(TRACK_KEY);
  return TRACKS.includes(saved) ? saved : "beginner";
}

export function setTrack(value) {
  if (TRACKS.includes(value)) localStorage.setItem(TRACK_KEY, value);
}

/** URL of a pack asset (the portrait field is a path relative to the pack). */
export function assetUrl(portrait, pack = packId()) {
  if (!portrait) return null;
  const parts = String(portrait).split("/").filter((p) => p && p !== "." && p !== "..");
  return `/packs/${encodeURIComponent(pack)}/assets/${parts.map(encodeURIComponent).join("/")}`;
}

export function castMember(pack, id) {
  return pack?.cast?.find((c) => c.id === id) ?? null;
}

/** Has the learner reached this cycle (completed it, or it is at or before the current one)? */
export function reached(progress, week, position, cycleId) {
  if (!progress) return false;
  if (progress.finished || progress.completed.includes(cycleId)) return true;
  const here = progress.current ?? { week: progress.week, position: progress.cycle };
  return week < here.week || (week === here.week && position <= here.position);
}

export function weekReached(progress, week) {
  if (!progress) return false;
  return progress.finished || week <= (progress.current?.week ?? progress.week);
}

export function weekDone(progress, weekTitle) {
  return weekTitle.cycles.length > 0 && weekTitle.cycles.every((c) => progress.completed.includes(c.id));
}

/** Where to go for a week/cycle/scene; cycle is the 1-based position. */
export function scenePath(week, position, scene) {
  if (scene === "intro") return `/learn/week/${week}/intro`;
  if (scene === "reflection") return `/learn/week/${week}/reflection`;
  return `/learn/week/${week}/cycle/${position}/${scene}`;
}

/** Remember where the learner is (PUT /api/progress/pause); errors are not the learner's problem. */
export async function savePause(week, cycleId, scene) {
  try {
    await api("/api/progress/pause", {
      method: "PUT",
      body: { pack_id: packId(), week, cycle: cycleId, scene, track: track() },
    });
  } catch (error) {
    if (error?.status !== 403) console.warn("pause", error?.message);
  }
}

function storeKey(kind, cycleId) {
  return `eduverse.${kind}.${session()?.user?.id ?? "anon"}.${packId()}.${cycleId}.${track()}`;
}

export function savedCode(cycleId) {
  return localStorage.getItem(storeKey("code", cycleId));
}

export function saveCode(cycleId, code) {
  try {
    localStorage.setItem(storeKey("code", cycleId), code);
  } catch {
    // Storage full or disabled: the server still gets the live code.
  }
}

export function forgetCode(cycleId) {
  localStorage.removeItem(storeKey("code", cycleId));
}

export function savedHints(cycleId) {
  try {
    return JSON.parse(localStorage.getItem(storeKey("hints", cycleId)) ?? "[]");
  } catch {
    return [];
  }
}

export function saveHints(cycleId, hints) {
  try {
    localStorage.setItem(storeKey("hints", cycleId), JSON.stringify(hints ?? []));
  } catch {
    // Not essential.
  }
}

function feedbackKey(week, cycleId) {
  return `eduverse.feedback.${session()?.user?.id ?? "anon"}.${packId()}.${week}.${cycleId}`;
}

export function saveFeedback(week, cycleId, answer) {
  try {
    sessionStorage.setItem(feedbackKey(week, cycleId), JSON.stringify(answer));
  } catch {
    // Not essential.
  }
}

export function savedFeedback(week, cycleId) {
  try {
    return JSON.parse(sessionStorage.getItem(feedbackKey(week, cycleId)) ?? "null");
  } catch {
    return null;
  }
}

/** A function telling whether the view that called it is still the one on screen. */
let renders = 0;
export function liveness() {
  const mine = ++renders;
  const hash = location.hash;
  return () => mine === renders && location.hash === hash;
}
