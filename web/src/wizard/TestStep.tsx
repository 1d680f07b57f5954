// Step 4: saving, testing, then the result: what the test found and what to do about it.
import { useI18n } from "../i18n/I18nContext";
import { TestResultView } from "../connections/TestResultView";
import { badgeFor } from "../connections/status";
import type { WizardState } from "./machine";
import { TestnetNote } from "./TestnetNote";

export function TestStep({ state }: { state: WizardState }) {
  const { t } = useI18n();
  const { step, result, failure, exchange } = state;
  const name = state.connection?.name ?? state.name;

  let progress: string;
  if (step === "saving") progress = t("wizard.saving");
  else if (step === "testing") progress = t("test.running");
  else if (failure) progress = t("test.failedToRun", { message: failure.message });
  else if (result) progress = t("test.finished", { status: t(badgeFor(result.status).labelKey, { code: result.status }) });
  else progress = "";

  return (
    <div className="test-step" aria-busy={step !== "result"}>
      <TestnetNote state={state} />
      {/* Polite live region: the progress and the outcome are read out without moving focus. */}
      <p role="status" aria-live="polite" className="progress" data-testid="wizard-progress" data-step={step}>
        {step !== "result" ? <span className="spinner" aria-hidden="true" /> : null}
        {progress}
      </p>
      {result && step === "result" ? (
        <>
          <p className={result.ok ? "summary summary-ok" : "summary summary-problem"} data-testid="wizard-result-summary" data-kept={String(!state.refused)}>
            {result.ok
              ? t("wizard.result.online", { name })
              : state.refused
                ? t("wizard.result.notKept", { name, exchange: exchange?.name ?? result.exchange })
                : t("wizard.result.problem", { name, exchange: exchange?.name ?? result.exchange })}
          </p>
          <TestResultView result={result} headingLevel={4} />
        </>
      ) : null}
    </div>
  );
}
