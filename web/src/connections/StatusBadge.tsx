// A connection's status as a badge: tone colour + glyph + words (never colour alone).
import { useI18n } from "../i18n/I18nContext";
import { badgeFor, TONE_GLYPH } from "./status";

export function StatusBadge({ status, testId = "status-badge" }: { status: string; testId?: string }) {
  const { t } = useI18n();
  const badge = badgeFor(status);
  return (
    <span className={`badge badge-${badge.tone}`} data-testid={testId} data-status={status} data-tone={badge.tone}>
      <span aria-hidden="true" className="badge-glyph">
        {TONE_GLYPH[badge.tone]}
      </span>
      {t(badge.labelKey, { code: status })}
    </span>
  );
}
