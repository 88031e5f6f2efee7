// Short messages in a polite live region (errors, saved, new answers). Text only.
import { h } from "./dom.js";

export function notify(message, { kind = "info", timeout = 6000, action } = {}) {
  const region = document.getElementById("notices");
  if (!region) return;
  const item = h(
    "div",
    { class: ["notice", `notice-${kind}`], role: kind === "error" ? "alert" : "status" },
    h("span", { text: message }),
    action ? h("button", { type: "button", class: "link", text: action.label, onclick: () => { item.remove(); action.run(); } }) : null,
    h("button", { type: "button", class: "notice-close", "aria-label": "×", text: "×", onclick: () => item.remove() }),
  );
  region.append(item);
  if (timeout) setTimeout(() => item.remove(), timeout);
  return item;
}

/** Show an ApiError (or any error) as a notice; returns the message. */
export function notifyError(error) {
  const message = error?.message || String(error);
  notify(message, { kind: "error" });
  return message;
}
