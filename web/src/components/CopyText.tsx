// A value to copy (an IP address to whitelist) with a Copy button where the clipboard API exists.
import { useState } from "react";
import { useI18n } from "../i18n/I18nContext";

export function CopyText({ value, testId }: { value: string; testId: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState<"no" | "yes" | "failed">("no");
  const canCopy = typeof navigator.clipboard?.writeText === "function";
  const copy = () => {
    navigator.clipboard.writeText(value).then(
      () => setCopied("yes"),
      () => setCopied("failed"), // denied (permissions, insecure context): the value is on screen anyway
    );
  };
  return (
    <span className="address-line">
      <code className="address" data-testid={testId}>
        {value}
      </code>
      {canCopy ? (
        <button type="button" className="button button-small" onClick={copy} data-testid={`${testId}-copy`}>
          {t("wizard.guide.copy")}
        </button>
      ) : null}
      <span role="status" className="copied">
        {copied === "yes" ? t("wizard.guide.copied") : copied === "failed" ? t("wizard.guide.copyFailed") : ""}
      </span>
    </span>
  );
}
