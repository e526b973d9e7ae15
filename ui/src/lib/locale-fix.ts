// Under a POSIX locale (LANG=C, common on servers, containers and CI) WebKitGTK reports
// `navigator.language` as "C", which is not a BCP 47 tag: libraries that pass it to `Intl`
// (uPlot does so when its module loads) then throw a RangeError and the UI never starts.
// This module is imported first by main.ts and substitutes "en-US" for such a tag.

function isValidLocale(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length > 0;
  } catch {
    return false;
  }
}

if (typeof navigator !== "undefined" && !isValidLocale(navigator.language)) {
  const fallback = "en-US";
  Object.defineProperty(navigator, "language", { value: fallback, configurable: true });
  const languages = (navigator.languages ?? []).filter(isValidLocale);
  Object.defineProperty(navigator, "languages", {
    value: Object.freeze(languages.length > 0 ? languages : [fallback]),
    configurable: true,
  });
}

export {};
