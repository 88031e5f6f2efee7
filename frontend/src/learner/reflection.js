// The weekly reflection: for each cycle of the week, understanding and application from 1
// to 5 (radio groups in fieldsets), and three free texts; PUT /api/reflections/{week}.
// An earlier reflection of the week fills the form (a resubmission replaces it).
import { api } from "../lib/api.js";
import { formatTime, h } from "../lib/dom.js";
import { locale, t } from "../lib/i18n.js";
import { notify } from "../lib/notices.js";
import { packId } from "./data.js";

const SCALE = [1, 2, 3, 4, 5];
const TEXTS = ["meaningful", "difficult", "curious"];

function ratingGroup(cycle, aspect, value) {
  const name = `rate-${cycle.id}-${aspect}`;
  const legendId = `${name}-legend`;
  return h(
    "fieldset",
    { class: "rating", "aria-describedby": "scale-help" },
    h("legend", { id: legendId, text: t(`refl.${aspect}`) }),
    h(
      "div",
      { class: "rating-options" },
      SCALE.map((n) => {
        const id = `${name}-${n}`;
        return h(
          "label",
          { class: "rating-option", for: id },
          h("input", { type: "radio", id, name, value: String(n), required: true, checked: value === n }),
          h("span", { text: String(n) }),
        );
      }),
    ),
  );
}

/** Returns {el, saved: Promise} — the form; `onSaved(reflection)` after a save. */
export function reflectionForm({ week, existing, onSaved }) {
  const status = h("p", { class: "save-status", role: "status", "aria-live": "polite", text: existing ? t("refl.savedAt", { when: formatTime(existing.at, locale()) }) : "" });
  const error = h("p", { class: "form-error", role: "alert" });
  const save = h("button", { type: "submit", class: "primary", id: "save-reflection", text: t("refl.save") });
  const texts = Object.fromEntries(
    TEXTS.map((key) => [
      key,
      h("textarea", { id: `refl-${key}`, name: key, maxlength: 4000, rows: 3, text: existing?.feedback?.[key] ?? "" }),
    ]),
  );
  const form = h(
    "form",
    { class: "reflection-form card" },
    h("p", { text: t("refl.intro") }),
    h("p", { id: "scale-help", class: "hint", text: t("refl.scale") }),
    week.cycles.map((cycle) =>
      h(
        "fieldset",
        { class: "cycle-rating" },
        h("legend", { text: `${t("scene.cycleOf", { position: cycle.position, count: week.cycles.length })}: ${cycle.title}` }),
        ratingGroup(cycle, "comprehension", existing?.ratings?.[cycle.id]?.comprehension),
        ratingGroup(cycle, "application", existing?.ratings?.[cycle.id]?.application),
      ),
    ),
    TEXTS.map((key) => h("div", { class: "field" }, h("label", { for: `refl-${key}`, text: t(`refl.${key}`) }), texts[key])),
    error,
    h("div", { class: "row" }, save, status),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const data = new FormData(form);
    const ratings = {};
    for (const cycle of week.cycles) {
      ratings[cycle.id] = {
        comprehension: Number(data.get(`rate-${cycle.id}-comprehension`)),
        application: Number(data.get(`rate-${cycle.id}-application`)),
      };
    }
    const feedback = Object.fromEntries(TEXTS.map((key) => [key, texts[key].value.trim()]));
    save.disabled = true;
    try {
      const answer = await api(`/api/reflections/${week.number}`, { method: "PUT", body: { pack_id: packId(), ratings, feedback } });
      status.textContent = `${t("refl.saved")} ${t("refl.savedAt", { when: formatTime(answer.reflection.at, locale()) })}`;
      notify(t("refl.saved"), { kind: "success" });
      onSaved?.(answer.reflection);
    } catch (problem) {
      error.textContent = problem.message;
    } finally {
      save.disabled = false;
    }
  });
  return form;
}
