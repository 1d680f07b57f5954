// The outcome of a connection test: each check with its time, the status, and the server's message
// and remedy, translated from their codes (the server's English when a code is unknown). The headline is
// the exact cause; the check that failed is the one marked failed, its detail repeated under the headline.
import type { Check, Permissions, TestResult } from "../api/types";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";
import { CopyText } from "../components/CopyText";
import { serverText, type Translate } from "../i18n/server";
import { StatusBadge } from "./StatusBadge";
import { checkLabelKey } from "./status";
import { Warnings } from "./Warnings";

/** A check's detail in the user's language. */
export function checkDetail(t: Translate, check: Check): string {
  return serverText(t, check.detail_code, check.detail_params, check.detail);
}

/** The status's message (the headline). */
export function messageText(t: Translate, result: TestResult): string {
  return serverText(t, result.message_code, result.message_params, result.message);
}

/** The remedy, with each warning's sentence after it (as the server's English `remedy` has them). */
export function remedyText(t: Translate, result: TestResult): string {
  if (!result.remedy_code) return result.remedy;
  const parts = [serverText(t, result.remedy_code, result.remedy_params, result.remedy)];
  for (const note of result.notes ?? []) parts.push(serverText(t, note.code, note.params, note.text));
  return parts.filter(Boolean).join(" ");
}

function checkName(t: Translate, check: Check): string {
  const labelKey = checkLabelKey(check.name);
  return labelKey ? t(labelKey) : check.label || check.name;
}

function CheckRow({ check }: { check: Check }) {
  const { t, locale } = useI18n();
  const ms = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(check.ms);
  return (
    <li className={check.ok ? "check check-ok" : "check check-failed"} data-testid="check-row" data-check={check.name} data-ok={String(check.ok)}>
      <span aria-hidden="true" className="check-glyph">
        {check.ok ? "✓" : "✕"}
      </span>
      <span className="check-name">{checkName(t, check)}</span>
      <span className="visually-hidden">{check.ok ? t("check.passed") : t("check.failed")}</span>
      <span className="check-ms" data-testid="check-ms">
        {t("check.ms", { ms })}
      </span>
      {check.detail || check.detail_code ? (
        <span className="check-detail" data-testid="check-detail" data-code={check.detail_code ?? ""}>
          {checkDetail(t, check)}
        </span>
      ) : null}
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
  const failed = result.checks.find((c) => !c.ok);
  const remedy = remedyText(t, result);
  return (
    <div className="test-result" data-testid="test-result" data-status={result.status} data-ok={String(result.ok)}>
      <p className="test-status">
        <StatusBadge status={result.status} />
      </p>
      <Heading className="subheading">{t("test.message")}</Heading>
      <p className="test-headline" data-testid="test-message" data-code={result.message_code ?? ""}>
        {messageText(t, result)}
      </p>
      {!result.ok && failed ? (
        <p className="test-cause" data-testid="test-failed-check" data-check={failed.name}>
          <strong>{t("test.failedCheck")}: </strong>
          {checkName(t, failed)}
          {failed.detail || failed.detail_code ? ` — ${checkDetail(t, failed)}` : ""}
        </p>
      ) : null}
      {remedy ? (
        <>
          <Heading className="subheading">{t("test.remedy")}</Heading>
          <p data-testid="test-remedy" data-code={result.remedy_code ?? ""}>
            {remedy}
          </p>
          {result.status === "ip_not_allowed" && result.remedy_params?.ip ? (
            <p>
              {t("wizard.guide.serverAddress")}: <CopyText value={result.remedy_params.ip} testId="remedy-address" />
            </p>
          ) : null}
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
