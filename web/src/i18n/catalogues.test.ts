import { describe, expect, it } from "vitest";
import { placeholders, format } from "./catalogue";
import { en } from "./en";
import { CATALOGUES, pickLocale, translate, type Locale } from "./locales";

const keys = Object.keys(en) as (keyof typeof en)[];
const others: Locale[] = ["it", "tr", "fr"];
// Words that are the same in a language (names, units, a code placeholder alone, an exchange's menu path).
const SAME_BY_NATURE = new Set<string>([
  "app.name", "common.no", "market.spot", "market.futures", "status.online", "check.ms", "conn.exchange",
  "conn.endpoint", "conn.tested", "cred.password", "wizard.step.test", "portfolio.amount", "audit.pagination",
  "srv.check.none", "srv.check.refused", "srv.check.failed", "srv.check.ip_whitelist",
  "guide.htx.where", "guide.bingx.where",
]);

describe("catalogues", () => {
  it("the English catalogue covers the pages and the server's codes", () => {
    expect(keys.length).toBeGreaterThan(350);
    for (const prefix of ["portfolio.", "audit.", "srv.status.", "srv.check.", "srv.audit.", "srv.portfolio.", "guide.", "kind."]) {
      expect(keys.some((k) => k.startsWith(prefix)), prefix).toBe(true);
    }
  });

  it.each(others)("%s has every key the English catalogue has", (locale) => {
    const missing = keys.filter((key) => !(key in CATALOGUES[locale]));
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

  it.each(others)("%s translates rather than copies", (locale) => {
    const copied = keys.filter((key) => !SAME_BY_NATURE.has(key) && CATALOGUES[locale][key] === en[key]);
    expect(copied).toEqual([]);
  });

  it("Italian agrees whatever the field's gender (not \"Chiave API è obbligatorio\")", () => {
    for (const field of ["Chiave API", "Secret", "Passphrase"]) {
      const text = translate("it", "validation.credential.required", { field, exchange: "KuCoin" });
      expect(text).not.toMatch(new RegExp(`^${field} è obbligatori`));
      expect(text).toContain(field);
    }
  });

  it("French puts a no-break space before : ; ? and ! (\"Étape 2 sur 4 :\")", () => {
    expect(translate("fr", "wizard.progress.heading", { n: 2, total: 4 })).toBe("Étape 2 sur 4\u00a0:");
    for (const [key, text] of Object.entries(CATALOGUES.fr)) {
      // Not inside URLs (http://) or code; a mark that ends a clause follows a space.
      const bare = (text ?? "").replace(/`[^`]*`/g, "").replace(/\w+:\/\//g, "");
      expect(bare, key).not.toMatch(/[^\s\u00a0\u202f][:;?!](\s|$)/);
    }
  });

  it("falls back to English for a key a language lacks", () => {
    const partial = { ...CATALOGUES.it };
    delete partial["audit.title"];
    expect(partial["audit.title"]).toBeUndefined();
    expect(translate("it", "audit.title")).toBe("Registro di audit");
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
