// Log in and sign up. The role choice on sign-up is offered only when the server allows
// instructor sign-up (it answers 403 otherwise, which is shown as the error).
import { api } from "./lib/api.js";
import { h, mount } from "./lib/dom.js";
import { addStrings, t } from "./lib/i18n.js";
import { route, navigate } from "./lib/router.js";
import { begin, homeFor } from "./lib/session.js";

addStrings({
  en: {
    "auth.login": "Log in",
    "auth.signup": "Sign up",
    "auth.email": "E-mail",
    "auth.password": "Password",
    "auth.name": "Your name",
    "auth.role": "I am a",
    "auth.role.student": "Learner",
    "auth.role.instructor": "Instructor",
    "auth.noAccount": "New here?",
    "auth.haveAccount": "Already have an account?",
    "auth.welcome": "Welcome to LogiCore Tech",
    "auth.tagline": "Your first day as a junior developer starts here. Write real Python, get real feedback.",
    "auth.passwordHint": "At least 8 characters.",
    "auth.working": "One moment…",
  },
  ko: {
    "auth.login": "로그인",
    "auth.signup": "회원가입",
    "auth.email": "이메일",
    "auth.password": "비밀번호",
    "auth.name": "이름",
    "auth.role": "역할",
    "auth.role.student": "학습자",
    "auth.role.instructor": "교수자",
    "auth.noAccount": "처음이신가요?",
    "auth.haveAccount": "이미 계정이 있나요?",
    "auth.welcome": "LogiCore Tech에 오신 것을 환영합니다",
    "auth.tagline": "주니어 개발자로서의 첫날이 여기서 시작됩니다. 진짜 파이썬을 쓰고, 진짜 피드백을 받으세요.",
    "auth.passwordHint": "8자 이상.",
    "auth.working": "잠시만요…",
  },
});

function field(id, label, input, hint) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id, text: label }),
    input,
    hint ? h("small", { id: `${id}-hint`, class: "hint", text: hint }) : null,
  );
}

function authView(mode) {
  return async ({ view }) => {
    const error = h("p", { class: "form-error", role: "alert", id: "auth-error" });
    const email = h("input", { id: "auth-email", name: "email", type: "email", required: true, autocomplete: "username", maxlength: 254 });
    const password = h("input", {
      id: "auth-password",
      name: "password",
      type: "password",
      required: true,
      minlength: mode === "signup" ? 8 : null,
      autocomplete: mode === "signup" ? "new-password" : "current-password",
      "aria-describedby": mode === "signup" ? "auth-password-hint" : null,
    });
    const name = h("input", { id: "auth-name", name: "name", required: true, maxlength: 200, autocomplete: "name" });
    const role = h(
      "select",
      { id: "auth-role", name: "role" },
      h("option", { value: "student", text: t("auth.role.student") }),
      h("option", { value: "instructor", text: t("auth.role.instructor") }),
    );
    const submit = h("button", { type: "submit", class: "primary", text: t(mode === "signup" ? "auth.signup" : "auth.login") });
    const form = h(
      "form",
      { class: "card auth-form", novalidate: false },
      h("h2", { text: t(mode === "signup" ? "auth.signup" : "auth.login") }),
      mode === "signup" ? field("auth-name", t("auth.name"), name) : null,
      field("auth-email", t("auth.email"), email),
      field("auth-password", t("auth.password"), password, mode === "signup" ? t("auth.passwordHint") : null),
      mode === "signup" ? field("auth-role", t("auth.role"), role) : null,
      error,
      submit,
      h(
        "p",
        { class: "switch" },
        t(mode === "signup" ? "auth.haveAccount" : "auth.noAccount"),
        " ",
        h("a", { href: mode === "signup" ? "#/login" : "#/signup", text: t(mode === "signup" ? "auth.login" : "auth.signup") }),
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      submit.disabled = true;
      submit.textContent = t("auth.working");
      try {
        const body =
          mode === "signup"
            ? { email: email.value.trim(), name: name.value.trim(), password: password.value, role: role.value }
            : { email: email.value.trim(), password: password.value };
        const answer = await api(`/api/auth/${mode}`, { method: "POST", body });
        const current = await begin(answer);
        navigate(homeFor(current));
      } catch (problem) {
        error.textContent = problem.message;
        submit.disabled = false;
        submit.textContent = t(mode === "signup" ? "auth.signup" : "auth.login");
      }
    });
    mount(
      view,
      h(
        "section",
        { class: "auth-page" },
        h("div", { class: "auth-hero" }, h("h1", { text: t("auth.welcome") }), h("p", { text: t("auth.tagline") })),
        form,
      ),
    );
    (mode === "signup" ? name : email).focus();
  };
}

export function registerAuthRoutes() {
  route("/login", authView("login"), { public: true });
  route("/signup", authView("signup"), { public: true });
}
