// Warnings of a connection test (e.g. the key works from any IP): a label and what it means.
import { useI18n } from "../i18n/I18nContext";
import { warningKeys } from "./status";

export function Warnings({ codes }: { codes: readonly string[] }) {
  const { t } = useI18n();
  if (codes.length === 0) return null;
  return (
    <ul className="warnings" aria-label={t("test.warnings")}>
      {codes.map((code) => {
        const { labelKey, hintKey } = warningKeys(code);
        return (
          <li key={code} className="warning" data-testid="warning" data-warning={code}>
            <span aria-hidden="true">⚠ </span>
            <strong>{t(labelKey, { code })}</strong>
            {hintKey ? <span className="warning-hint"> — {t(hintKey)}</span> : null}
          </li>
        );
      })}
    </ul>
  );
}
