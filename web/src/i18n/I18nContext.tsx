// Language state for the whole app: the chosen locale, t(), and locale-aware date formatting.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { MessageKey, Params } from "./catalogue";
import { isLocale, pickLocale, translate, type Locale } from "./locales";

// Only the language preference is stored: it is not sensitive, and it should survive a reload.
const STORAGE_KEY = "tradewarden.locale";

export interface I18n {
  locale: Locale;
  setLocale: (locale: Locale) => void;
  t: (key: MessageKey, params?: Params) => string;
  /** A timestamp from the API (ISO 8601) in the user's language and time zone. */
  dateTime: (iso: string) => string;
}

const I18nContext = createContext<I18n | null>(null);

function initialLocale(): Locale {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (stored && isLocale(stored)) return stored;
  } catch {
    // storage disabled (private mode, policy): fall through to the browser's languages
  }
  return pickLocale(navigator.languages ?? [navigator.language]);
}

export function I18nProvider({ children, locale: fixed }: { children: ReactNode; locale?: Locale }) {
  const [locale, setLocaleState] = useState<Locale>(() => fixed ?? initialLocale());

  const setLocale = useCallback((next: Locale) => {
    setLocaleState(next);
    try {
      window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // not persisted; the choice still holds for this page
    }
  }, []);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const value = useMemo<I18n>(() => {
    const formatter = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" });
    return {
      locale,
      setLocale,
      t: (key, params) => translate(locale, key, params),
      dateTime: (iso) => {
        const date = new Date(iso);
        return Number.isNaN(date.getTime()) ? iso : formatter.format(date);
      },
    };
  }, [locale, setLocale]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
