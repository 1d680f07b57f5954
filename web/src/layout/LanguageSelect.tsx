// The language switcher: each language named in itself.
import { useId } from "react";
import { useI18n } from "../i18n/I18nContext";
import { isLocale, LOCALES } from "../i18n/locales";

export function LanguageSelect() {
  const { t, locale, setLocale } = useI18n();
  const id = useId();
  return (
    <div className="language">
      <label htmlFor={id}>{t("layout.language")}</label>
      <select
        id={id}
        value={locale}
        onChange={(e) => isLocale(e.target.value) && setLocale(e.target.value)}
        data-testid="language-select"
      >
        {LOCALES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </div>
  );
}
