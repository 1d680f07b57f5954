import { describe, expect, it } from "vitest";
import { placeholders, format } from "./catalogue";
import { en } from "./en";
import { CATALOGUES, CONNECTION_FLOW_PREFIXES, pickLocale, translate, type Locale } from "./locales";

const flowKeys = (Object.keys(en) as (keyof typeof en)[]).filter((key) =>
  CONNECTION_FLOW_PREFIXES.some((prefix) => key.startsWith(prefix)),
);
const others: Locale[] = ["it", "tr", "fr"];

describe("catalogues", () => {
  it("the connection flow is a real part of the catalogue", () => {
    expect(flowKeys.length).toBeGreaterThan(150);
    expect(flowKeys).toContain("wizard.runTest");
    expect(flowKeys).toContain("status.withdraw_enabled");
  });

  it.each(others)("%s translates every key of the connection flow", (locale) => {
    const missing = flowKeys.filter((key) => !CATALOGUES[locale][key]);
    expect(missing).toEqual([]);
  });

  it.each(others)("%s has no keys English lacks", (locale) => {
    const extra = Object.keys(CATALOGUES[locale]).filter((key) => !(key in en));
    expect(extra).toEqual([]);
  });

  it.each(others)("%s keeps every placeholder of the English text", (locale) => {
    for (const [key, text] of Object.entries(CATALOGUES[locale])) {
      expect(placeholders(text ?? ""), `${locale} ${key}`).toEqual(placeholders(en[key as keyof typeof en]));
    }
  });

  it.each(others)("%s translates rather than copies the wizard's sentences", (locale) => {
    for (const key of ["wizard.title", "wizard.next", "wizard.runTest", "status.withdraw_enabled", "conn.add"] as const) {
      expect(CATALOGUES[locale][key], `${locale} ${key}`).not.toBe(en[key]);
    }
  });

  it("falls back to English for a key a language lacks", () => {
    expect(CATALOGUES.it["audit.title"]).toBeUndefined();
    expect(translate("it", "audit.title")).toBe(en["audit.title"]);
    expect(translate("it", "wizard.title")).toBe("Aggiungi una connessione");
  });
});

describe("format", () => {
  it("fills placeholders and leaves unknown ones visible", () => {
    expect(format("{name} is now: {status}", { name: "A", status: "Online" })).toBe("A is now: Online");
    expect(format("Step {n} of {total}", { n: 1 })).toBe("Step 1 of {total}");
    expect(placeholders("{b} and {a}")).toEqual(["a", "b"]);
  });
});

describe("pickLocale", () => {
  it("takes the first supported language, by its base", () => {
    expect(pickLocale(["tr-TR", "en-US"])).toBe("tr");
    expect(pickLocale(["de-DE", "fr-CA"])).toBe("fr");
    expect(pickLocale(["de-DE"])).toBe("en");
    expect(pickLocale([])).toBe("en");
  });
});
