// Interface strings in Korean and English. Each part of the app adds its own table with
// addStrings(); t() falls back to English, then to the key. The choice is remembered.
const tables = { en: {}, ko: {} };
const listeners = new Set();
const KEY = "eduverse.locale";

export const LOCALES = ["ko", "en"];

export function addStrings(strings) {
  for (const locale of LOCALES) Object.assign(tables[locale], strings[locale] ?? {});
}

export function locale() {
  const saved = localStorage.getItem(KEY);
  if (LOCALES.includes(saved)) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";
}

export function setLocale(value) {
  if (!LOCALES.includes(value)) return;
  localStorage.setItem(KEY, value);
  document.documentElement.lang = value;
  for (const listener of listeners) listener(value);
}

export function onLocaleChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Translate `key`, replacing `{name}` placeholders with `vars` (as plain text). */
export function t(key, vars = {}) {
  const loc = locale();
  const template = tables[loc][key] ?? tables.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    name in vars ? String(vars[name]) : whole,
  );
}
