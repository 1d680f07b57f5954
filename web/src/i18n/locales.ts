// The languages the dashboard speaks, and translation with English fallback.
import { format, type Catalogue, type MessageKey, type Params } from "./catalogue";
import { en } from "./en";
import { fr } from "./fr";
import { it } from "./it";
import { tr } from "./tr";

export type Locale = "en" | "it" | "tr" | "fr";

/** Each language named in itself, so a user can find theirs whatever language is showing. */
export const LOCALES: readonly { code: Locale; name: string }[] = [
  { code: "en", name: "English" },
  { code: "it", name: "Italiano" },
  { code: "tr", name: "Türkçe" },
  { code: "fr", name: "Français" },
];

export const CATALOGUES: Record<Locale, Catalogue> = { en, it, tr, fr };

export function isLocale(value: string): value is Locale {
  return LOCALES.some((l) => l.code === value);
}

export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  const template = CATALOGUES[locale][key] ?? en[key];
  return format(template, params);
}

/** The best supported language for a list of preferences like navigator.languages ("tr-TR" → "tr"). */
export function pickLocale(preferences: readonly string[]): Locale {
  for (const preference of preferences) {
    const base = preference.toLowerCase().split("-")[0] ?? "";
    if (isLocale(base)) return base;
  }
  return "en";
}
