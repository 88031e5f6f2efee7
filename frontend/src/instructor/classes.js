// "My classes": the list (GET /api/classes) with member counts and invite codes, the form
// that creates a class (POST /api/classes; the API's validation message is shown as is),
// copying and regenerating invite codes and deleting a class behind a confirmation dialog.
import { api } from "../lib/api.js";
import { h, mount } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { notify, notifyError } from "../lib/notices.js";
import { classApi, classPath, nextId, setTitle, tn } from "./shared.js";

function field(label, input, hint) {
  const hintId = hint ? `${input.id}-hint` : null;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: input.id, text: label }),
    input,
    hint ? h("small", { id: hintId, class: "hint", text: hint }) : null,
  );
}

/** The API's message, with every problem when the body had several. */
function problemText(error) {
  const problems = error?.body?.problems;
  return Array.isArray(problems) && problems.length > 1 ? problems.join(" · ") : error?.message ?? String(error);
}

function detailsLine(details) {
  const parts = [t("ins.classes.yearSemester", { year: details.year, semester: details.semester })];
  if (details.department) parts.push(details.department);
  if (details.section) parts.push(t("ins.classes.sectionShort", { section: details.section }));
  return parts.join(" · ");
}

async function copyInvite(codeEl, code) {
  try {
    if (!navigator.clipboard?.writeText) throw new Error("no clipboard");
    await navigator.clipboard.writeText(code);
    notify(t("ins.classes.copied", { code }), { kind: "success" });
  } catch {
    // No clipboard access (http, permissions): select the code so Ctrl+C / long-press copies it.
    const range = document.createRange();
    range.selectNodeContents(codeEl);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    notify(copied ? t("ins.classes.copied", { code }) : t("ins.classes.copyManual"), { kind: copied ? "success" : "info" });
  }
}

/** Ask before deleting: type the subject to enable the delete button. Resolves true if deleted. */
function confirmDelete(classroom, opener) {
  return new Promise((resolve) => {
    const titleId = nextId("del-title");
    const descId = nextId("del-desc");
    const input = h("input", { id: nextId("del-confirm"), type: "text", autocomplete: "off", spellcheck: "false" });
    const error = h("p", { class: "form-error", role: "alert" });
    const confirm = h("button", { type: "submit", class: "danger", disabled: true, text: t("ins.delete.confirm") });
    const cancel = h("button", { type: "button", text: t("ins.cancel") });
    const expected = classroom.details.subject.trim();
    let deleted = false;
    const form = h(
      "form",
      { class: "ins-dialog-body" },
      h("h2", { id: titleId, text: t("ins.delete.title") }),
      h("p", { id: descId }, t("ins.delete.explain", { name: classroom.name, count: classroom.member_count })),
      h(
        "div",
        { class: "field" },
        h("label", { for: input.id }, t("ins.delete.typeLabel"), " ", h("strong", { class: "ins-typed", text: expected })),
        input,
      ),
      error,
      h("div", { class: "row ins-dialog-actions" }, cancel, confirm),
    );
    const dialog = h("dialog", { class: "ins-dialog", "aria-labelledby": titleId, "aria-describedby": descId }, form);
    input.addEventListener("input", () => {
      confirm.disabled = input.value.trim() !== expected;
    });
    cancel.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (input.value.trim() !== expected) return;
      confirm.disabled = true;
      error.textContent = "";
      try {
        await api(classApi(classroom.id), { method: "DELETE" });
        deleted = true;
        dialog.close();
      } catch (problem) {
        error.textContent = problem.message;
        confirm.disabled = false;
      }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (!deleted && opener?.isConnected) opener.focus();
      resolve(deleted);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

function classCard(classroom, { onDeleted }) {
  const headingId = nextId("class");
  const codeEl = h("code", { class: "ins-code", id: nextId("code"), dataset: { invite: "" }, text: classroom.invite_code });
  const copy = h("button", {
    type: "button",
    "aria-label": t("ins.classes.copyLabel", { name: classroom.name }),
    text: t("ins.classes.copy"),
  });
  const regenerate = h("button", {
    type: "button",
    "aria-label": t("ins.classes.regenerateLabel", { name: classroom.name }),
    text: t("ins.classes.regenerate"),
  });
  const remove = h("button", {
    type: "button",
    class: "danger",
    "aria-label": t("ins.classes.deleteLabel", { name: classroom.name }),
    text: t("ins.classes.delete"),
  });
  copy.addEventListener("click", () => copyInvite(codeEl, classroom.invite_code));
  regenerate.addEventListener("click", async () => {
    regenerate.disabled = true;
    try {
      const answer = await api(classApi(classroom.id, "/invite-code"), { method: "POST" });
      classroom.invite_code = answer.invite_code;
      codeEl.textContent = answer.invite_code;
      notify(t("ins.classes.regenerated", { code: answer.invite_code }), { kind: "success" });
    } catch (error) {
      notifyError(error);
    } finally {
      regenerate.disabled = false;
    }
  });
  const card = h(
    "article",
    { class: "card ins-class", "aria-labelledby": headingId, dataset: { classId: classroom.id } },
    h("h2", { id: headingId, tabindex: "-1", class: "ins-class-title", text: classroom.details.subject }),
    h("p", { class: "muted ins-class-details", text: detailsLine(classroom.details) }),
    h(
      "p",
      { class: "ins-class-members" },
      h("span", { dataset: { members: String(classroom.member_count) }, text: tn("ins.classes.members", classroom.member_count) }),
      classroom.unanswered_questions
        ? h("a", {
            class: "badge ins-class-waiting",
            href: `#${classPath(classroom.id, "questions")}`,
            dataset: { unanswered: String(classroom.unanswered_questions) },
            text: tn("ins.classes.waiting", classroom.unanswered_questions),
          })
        : null,
    ),
    h(
      "div",
      { class: "ins-invite" },
      h("span", { class: "ins-invite-label", id: `${codeEl.id}-label`, text: t("ins.classes.inviteCode") }),
      codeEl,
      h("div", { class: "row" }, copy, regenerate),
    ),
    h(
      "div",
      { class: "row ins-class-links" },
      h("a", { class: "button primary", href: `#${classPath(classroom.id)}`, text: t("ins.tabs.monitor"), "aria-label": t("ins.classes.monitorLabel", { name: classroom.name }) }),
      h("a", { class: "button", href: `#${classPath(classroom.id, "questions")}`, text: t("ins.tabs.questions"), "aria-label": t("ins.classes.questionsLabel", { name: classroom.name }) }),
      h("a", { class: "button", href: `#${classPath(classroom.id, "report")}`, text: t("ins.tabs.report"), "aria-label": t("ins.classes.reportLabel", { name: classroom.name }) }),
      remove,
    ),
  );
  remove.addEventListener("click", async () => {
    const deleted = await confirmDelete(classroom, remove);
    if (!deleted) return;
    card.remove();
    notify(t("ins.classes.deleted", { name: classroom.name }), { kind: "success" });
    onDeleted();
  });
  return card;
}

function createForm(onCreated) {
  const year = new Date().getFullYear();
  const subject = h("input", { id: "ins-new-subject", name: "subject", required: true, maxlength: 120, autocomplete: "off" });
  const yearInput = h("input", { id: "ins-new-year", name: "year", type: "number", required: true, min: 2000, max: 2100, step: 1, value: year, inputmode: "numeric" });
  const semester = h("input", { id: "ins-new-semester", name: "semester", required: true, maxlength: 20, list: "ins-semesters", autocomplete: "off" });
  const department = h("input", { id: "ins-new-department", name: "department", maxlength: 120, autocomplete: "organization-title" });
  const section = h("input", { id: "ins-new-section", name: "section", maxlength: 40, autocomplete: "off" });
  const error = h("p", { class: "form-error", role: "alert", id: "ins-new-error" });
  const submit = h("button", { type: "submit", class: "primary", text: t("ins.classes.create") });
  const form = h(
    "form",
    { class: "card ins-create", novalidate: true, "aria-labelledby": "ins-create-title" },
    h("h2", { id: "ins-create-title", text: t("ins.classes.newClass") }),
    field(t("ins.classes.subject"), subject),
    h("div", { class: "ins-two" }, field(t("ins.classes.year"), yearInput), field(t("ins.classes.semester"), semester, t("ins.classes.semesterHint"))),
    field(t("ins.classes.department"), department, t("ins.optional")),
    field(t("ins.classes.section"), section, t("ins.optional")),
    h("datalist", { id: "ins-semesters" }, ["1", "2", "summer", "winter"].map((v) => h("option", { value: v }))),
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    const yearText = yearInput.value.trim();
    const body = {
      subject: subject.value.trim(),
      year: yearText === "" ? null : Number(yearText),
      semester: semester.value.trim(),
      department: department.value.trim(),
      section: section.value.trim(),
    };
    try {
      const answer = await api("/api/classes", { method: "POST", body });
      form.reset();
      yearInput.value = String(year);
      for (const input of [subject, yearInput, semester]) input.removeAttribute("aria-invalid");
      onCreated(answer.class);
    } catch (problem) {
      error.textContent = problemText(problem);
      // Mark the fields the API named (its messages say "body.<field>: …").
      const named = new Set(String(problemText(problem)).match(/body\.(\w+)/g)?.map((m) => m.slice(5)) ?? []);
      for (const input of [subject, yearInput, semester, department, section]) {
        if (named.has(input.name)) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
      const first = [subject, yearInput, semester, department, section].find((i) => named.has(i.name));
      (first ?? subject).focus();
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export async function classesView({ view }) {
  setTitle(t("ins.classes.title"));
  let alive = true;
  const list = h("div", { class: "ins-class-list", "aria-busy": "true" });
  const count = h("p", { class: "muted", id: "ins-class-count" });
  const listSection = h(
    "section",
    { class: "ins-classes-main", "aria-labelledby": "ins-classes-title" },
    h("h1", { id: "ins-classes-title", tabindex: "-1", text: t("ins.classes.title") }),
    count,
    list,
  );

  function updateCount() {
    const n = list.querySelectorAll(".ins-class").length;
    count.textContent = n ? tn("ins.classes.count", n) : "";
    if (!n) mount(list, h("p", { class: "card ins-empty", text: t("ins.classes.none") }));
  }

  function add(classroom) {
    list.querySelector(".ins-empty")?.remove();
    const card = classCard(classroom, {
      onDeleted() {
        updateCount();
        document.getElementById("ins-classes-title")?.focus();
      },
    });
    list.append(card);
    return card;
  }

  const form = createForm((classroom) => {
    const card = add(classroom);
    updateCount();
    notify(t("ins.classes.created", { name: classroom.name, code: classroom.invite_code }), { kind: "success" });
    card.querySelector(".ins-class-title").focus();
  });
  mount(view, h("div", { class: "ins-classes" }, listSection, h("aside", { class: "ins-classes-side" }, form)));

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const data = await api("/api/classes");
      if (!alive) return;
      list.replaceChildren();
      for (const classroom of data.classes) add(classroom);
      updateCount();
    } catch (error) {
      if (!alive) return;
      mount(
        list,
        h(
          "div",
          { class: "card", role: "alert" },
          h("p", { text: error.message }),
          h("button", { type: "button", text: t("ins.retry"), onclick: load }),
        ),
      );
    } finally {
      list.removeAttribute("aria-busy");
    }
  }
  await load();
  return () => {
    alive = false;
    for (const dialog of document.querySelectorAll("dialog.ins-dialog")) dialog.close();
  };
}
