// The account page for both roles: who I am, and changing my password. A change ends every
// other session (the server bumps the token version) and hands this one a fresh token.
import { api, setToken } from "./lib/api.js";
import { h, mount } from "./lib/dom.js";
import { addStrings, t } from "./lib/i18n.js";
import { notify } from "./lib/notices.js";
import { route } from "./lib/router.js";
import { refresh } from "./lib/session.js";

addStrings({
  en: {
    "account.title": "Account",
    "account.email": "E-mail",
    "account.role": "Role",
    "account.change": "Change password",
    "account.current": "Current password",
    "account.new": "New password",
    "account.repeat": "New password again",
    "account.hint": "At least 8 characters. Every other device is logged out.",
    "account.mismatch": "The two new passwords differ.",
    "account.save": "Change password",
    "account.saved": "Password changed. Other devices are logged out.",
  },
  ko: {
    "account.title": "계정",
    "account.email": "이메일",
    "account.role": "역할",
    "account.change": "비밀번호 변경",
    "account.current": "현재 비밀번호",
    "account.new": "새 비밀번호",
    "account.repeat": "새 비밀번호 확인",
    "account.hint": "8자 이상. 다른 기기에서는 모두 로그아웃됩니다.",
    "account.mismatch": "새 비밀번호 두 개가 다릅니다.",
    "account.save": "비밀번호 변경",
    "account.saved": "비밀번호를 바꿨습니다. 다른 기기에서는 로그아웃되었습니다.",
  },
});

function field(id, label, input, hint) {
  return h("div", { class: "field" }, h("label", { for: id, text: label }), input, hint ? h("small", { id: `${id}-hint`, class: "hint", text: hint }) : null);
}

async function accountView({ view, session }) {
  const user = session.user;
  const current = h("input", { id: "account-current", type: "password", required: true, autocomplete: "current-password" });
  const fresh = h("input", { id: "account-new", type: "password", required: true, minlength: 8, autocomplete: "new-password", "aria-describedby": "account-new-hint" });
  const repeat = h("input", { id: "account-repeat", type: "password", required: true, minlength: 8, autocomplete: "new-password" });
  const error = h("p", { class: "form-error", role: "alert" });
  const save = h("button", { type: "submit", class: "primary", text: t("account.save") });
  const form = h(
    "form",
    { class: "card auth-form", "aria-labelledby": "account-change" },
    h("h2", { id: "account-change", text: t("account.change") }),
    field("account-current", t("account.current"), current),
    field("account-new", t("account.new"), fresh, t("account.hint")),
    field("account-repeat", t("account.repeat"), repeat),
    error,
    save,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (fresh.value !== repeat.value) {
      error.textContent = t("account.mismatch");
      repeat.focus();
      return;
    }
    save.disabled = true;
    try {
      const answer = await api("/api/me/password", { method: "POST", body: { old_password: current.value, new_password: fresh.value } });
      setToken(answer.token);
      await refresh();
      form.reset();
      notify(t("account.saved"), { kind: "success" });
    } catch (problem) {
      error.textContent = problem.message;
    } finally {
      save.disabled = false;
    }
  });
  mount(
    view,
    h(
      "section",
      { class: "stack account-page" },
      h("h1", { text: t("account.title") }),
      h(
        "dl",
        { class: "card account-facts" },
        h("dt", { text: t("auth.name") }),
        h("dd", { text: user.name }),
        h("dt", { text: t("account.email") }),
        h("dd", { text: user.email }),
        h("dt", { text: t("account.role") }),
        h("dd", { text: t(`auth.role.${user.role}`) }),
      ),
      form,
    ),
  );
}

export function registerAccountRoutes() {
  route("/account", accountView);
}
