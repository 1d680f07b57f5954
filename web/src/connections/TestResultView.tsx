// The outcome of a connection test: each check with its time, the status, and the server's message
// and remedy (English text from the server, shown as it is).
import type { Check, Permissions, TestResult } from "../api/types";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";
import { StatusBadge } from "./StatusBadge";
import { checkLabelKey } from "./status";
import { Warnings } from "./Warnings";

function CheckRow({ check }: { check: Check }) {
  const { t, locale } = useI18n();
  const labelKey = checkLabelKey(check.name);
  const ms = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(check.ms);
  return (
    <li className={check.ok ? "check check-ok" : "check check-failed"} data-testid="check-row" data-check={check.name} data-ok={String(check.ok)}>
      <span aria-hidden="true" className="check-glyph">
        {check.ok ? "✓" : "✕"}
      </span>
      <span className="check-name">{labelKey ? t(labelKey) : check.name}</span>
      <span className="visually-hidden">{check.ok ? t("check.passed") : t("check.failed")}</span>
      <span className="check-ms" data-testid="check-ms">
        {t("check.ms", { ms })}
      </span>
      {check.detail ? <span className="check-detail">{check.detail}</span> : null}
    </li>
  );
}

/** Each step of a test, in order, with whether it passed and how long it took. */
export function CheckList({ checks }: { checks: readonly Check[] }) {
  return (
    <ol className="checks" data-testid="check-list">
      {checks.map((check, index) => (
        <CheckRow key={`${check.name}-${index}`} check={check} />
      ))}
    </ol>
  );
}

const PERMISSIONS: readonly (keyof Permissions)[] = ["read", "spot_trade", "futures_trade", "withdraw", "ip_restricted"];

function PermissionList({ permissions }: { permissions: Permissions }) {
  const { t } = useI18n();
  const word = (value: boolean | null) => (value === null ? t("common.unknown") : value ? t("common.yes") : t("common.no"));
  return (
    <dl className="permissions" data-testid="permissions">
      {PERMISSIONS.map((name) => (
        <div key={name} data-permission={name} data-value={String(permissions[name])}>
          <dt>{t(`perm.${name}` as MessageKey)}</dt>
          <dd>{word(permissions[name])}</dd>
        </div>
      ))}
    </dl>
  );
}

export function TestResultView({ result, headingLevel = 3 }: { result: TestResult; headingLevel?: 3 | 4 }) {
  const { t } = useI18n();
  const Heading = `h${headingLevel}` as const;
  return (
    <div className="test-result" data-testid="test-result" data-status={result.status} data-ok={String(result.ok)}>
      <p className="test-status">
        <StatusBadge status={result.status} />
      </p>
      <Heading className="subheading">{t("test.message")}</Heading>
      <p data-testid="test-message">{result.message}</p>
      {result.remedy ? (
        <>
          <Heading className="subheading">{t("test.remedy")}</Heading>
          <p data-testid="test-remedy">{result.remedy}</p>
        </>
      ) : null}
      <Warnings codes={result.warnings} />
      <Heading className="subheading">{t("test.checks")}</Heading>
      <CheckList checks={result.checks} />
      <details className="permissions-details">
        <summary>{t("perm.title")}</summary>
        <PermissionList permissions={result.permissions} />
      </details>
    </div>
  );
}
