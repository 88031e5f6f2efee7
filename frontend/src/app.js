// The single-page app: header (brand, navigation by role, language, log out), hash routes
// for auth, learner and instructor views, and the service worker.
import { onUnauthorized } from "./lib/api.js";
import { h, mount } from "./lib/dom.js";
import { addStrings, locale, LOCALES, onLocaleChange, setLocale, t } from "./lib/i18n.js";
import { rerender, route, startRouter } from "./lib/router.js";
import { end, forget, homeFor, onSessionChange, restore, session } from "./lib/session.js";
import { registerAccountRoutes } from "./account.js";
import { registerAuthRoutes } from "./auth.js";
import { learnerNav, registerLearnerRoutes } from "./learner/index.js";
import { instructorNav, registerInstructorRoutes } from "./instructor/index.js";

addStrings({
  en: { "app.name": "EduVerse", "app.logout": "Log out", "app.language": "Language", "app.skip": "Skip to content", "app.nav": "Main", "app.account": "Account" },
  ko: { "app.name": "EduVerse", "app.logout": "로그아웃", "app.language": "언어", "app.skip": "본문으로 건너뛰기", "app.nav": "주 메뉴", "app.account": "계정" },
});

function renderHeader() {
  const header = document.getElementById("app-header");
  const current = session();
  const links = !current ? [] : current.user.role === "instructor" ? instructorNav() : learnerNav();
  const select = h(
    "select",
    { id: "locale-select", "aria-label": t("app.language") },
    LOCALES.map((code) => h("option", { value: code, selected: code === locale(), text: code === "ko" ? "한국어" : "English" })),
  );
  select.addEventListener("change", () => setLocale(select.value));
  mount(
    header,
    h("a", { class: "skip-link", href: "#view", text: t("app.skip"), onclick: (e) => { e.preventDefault(); document.getElementById("view").focus(); } }),
    h("a", { class: "brand", href: `#${homeFor(current)}` }, h("span", { class: "brand-mark", "aria-hidden": "true" }), t("app.name")),
    h(
      "nav",
      { "aria-label": t("app.nav") },
      h("ul", {}, links.map((link) => h("li", {}, h("a", { href: `#${link.path}`, text: link.label, dataset: { nav: link.path } })))),
    ),
    h(
      "div",
      { class: "header-tools" },
      select,
      current ? h("a", { class: "who", href: "#/account", title: t("app.account"), text: current.user.name, dataset: { nav: "/account" } }) : null,
      current
        ? h("button", { type: "button", class: "ghost", id: "logout", text: t("app.logout"), onclick: async () => { await end(); location.hash = "#/login"; } })
        : null,
    ),
  );
  markCurrentNav();
}

function markCurrentNav() {
  const path = location.hash.replace(/^#/, "").split("?")[0];
  for (const link of document.querySelectorAll("[data-nav]")) {
    const here = path === link.dataset.nav || path.startsWith(`${link.dataset.nav}/`);
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function main() {
  document.documentElement.lang = locale();
  registerAuthRoutes();
  registerAccountRoutes();
  registerLearnerRoutes();
  registerInstructorRoutes();
  route("/", async () => {}, { public: true });
  onSessionChange(renderHeader);
  onLocaleChange(() => {
    renderHeader();
    rerender();
  });
  onUnauthorized(() => {
    forget();
    location.hash = "#/login";
  });
  document.addEventListener("eduverse:routed", markCurrentNav);
  await restore();
  renderHeader();
  await startRouter({
    getSession: session,
    home: "/",
    check(target, current) {
      if (target.pattern === "/") return homeFor(current);
      if (target.public) return current ? homeFor(current) : null;
      if (!current) return "/login";
      if (target.role && target.role !== current.user.role) return homeFor(current);
      return null;
    },
  });
  if ("serviceWorker" in navigator && document.body.dataset.sw === "on") {
    navigator.serviceWorker.register("/sw.js").catch((error) => console.warn("service worker", error));
  }
}

main();
