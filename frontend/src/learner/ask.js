// "Ask a question": a modal <dialog> with a labelled textarea. The question goes to the
// instructor of the learner's class with the scene as context (what is on screen).
import { api } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { notify } from "../lib/notices.js";
import { navigate } from "../lib/router.js";
import { session } from "../lib/session.js";

let counter = 0;

/**
 * Open the dialog. `context`: {week, cycle (id or null), scene, character, excerpt}; `where`
 * is the readable place shown to the learner.
 */
export function openAskDialog(context, where, opener) {
  const id = `ask-${++counter}`;
  const inClass = Boolean(session()?.class);
  const error = h("p", { class: "form-error", role: "alert" });
  const textarea = h("textarea", {
    id: `${id}-text`,
    name: "text",
    required: true,
    maxlength: 4000,
    rows: 6,
    "aria-describedby": `${id}-help`,
  });
  const send = h("button", { type: "submit", class: "primary", text: t("q.send") });
  const cancel = h("button", { type: "button", class: "ghost", text: t("q.cancel") });
  const dialog = h("dialog", { class: "ask-dialog card", "aria-labelledby": `${id}-title` });
  const body = inClass
    ? h(
        "form",
        { class: "ask-form" },
        h("p", { class: "muted ask-where", text: t("q.about", { where }) }),
        h(
          "div",
          { class: "field" },
          h("label", { for: `${id}-text`, text: t("q.text") }),
          textarea,
          h("small", { id: `${id}-help`, class: "hint", text: t("q.textHelp") }),
        ),
        error,
        h("div", { class: "row end" }, cancel, send),
      )
    : h(
        "div",
        { class: "ask-form" },
        h("p", { text: t("q.noClass") }),
        h(
          "div",
          { class: "row end" },
          cancel,
          h("button", {
            type: "button",
            class: "primary",
            text: t("q.toDashboard"),
            onclick: () => {
              dialog.close();
              navigate("/learn");
            },
          }),
        ),
      );
  dialog.append(h("h2", { id: `${id}-title`, text: t("q.title") }), body);
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener?.isConnected) opener.focus();
  });
  if (inClass) {
    body.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = textarea.value.trim();
      if (!text) {
        error.textContent = t("q.text");
        textarea.focus();
        return;
      }
      error.textContent = "";
      send.disabled = true;
      try {
        await api("/api/questions", {
          method: "POST",
          body: {
            text,
            context: {
              week: context.week,
              cycle: context.cycle ?? null,
              scene: String(context.scene ?? "").slice(0, 40),
              character: String(context.character ?? "").slice(0, 40),
              excerpt: String(context.excerpt ?? "").slice(0, 2000),
            },
          },
        });
        dialog.close();
        notify(t("q.sent"), { kind: "success" });
        document.dispatchEvent(new CustomEvent("eduverse:question-asked"));
      } catch (problem) {
        error.textContent = problem.message;
        send.disabled = false;
      }
    });
  }
  document.body.append(dialog);
  dialog.showModal();
  (inClass ? textarea : cancel).focus();
  return dialog;
}

/** The button every scene carries. `context()` is read when it is pressed. */
export function askButton(context, where) {
  const button = h("button", { type: "button", class: "ask-button", text: t("q.ask") });
  button.addEventListener("click", () => openAskDialog(context(), where(), button));
  return button;
}
