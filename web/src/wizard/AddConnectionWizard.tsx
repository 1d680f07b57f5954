// The add-connection wizard: a modal that walks exchange → guide → key → test. The state machine
// (machine.ts) decides what may happen; this component renders it and makes the API calls.
import { useEffect, useId, useReducer, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { Exchange, ServerInfo, TestResult } from "../api/types";
import { Dialog } from "../components/Dialog";
import { useI18n } from "../i18n/I18nContext";
import { serverMessage } from "../lib/errors";
import { focusFirstInvalid } from "../lib/focus";
import { CredentialsStep } from "./CredentialsStep";
import { ExchangeStep } from "./ExchangeStep";
import { GuideStep } from "./GuideStep";
import { initialState, prepareSubmit, PROGRESS_STEPS, progressIndex, transition, type ExchangeSpec } from "./machine";
import { TestStep } from "./TestStep";

export interface AddConnectionWizardProps {
  exchanges: Exchange[];
  serverInfo: ServerInfo | null;
  existingNames: readonly string[];
  /** `changed`: a connection was created (the list should reload). */
  onClose: (changed: boolean) => void;
}

const STEP_TITLES = {
  exchange: "wizard.step.exchange",
  guide: "wizard.step.guide",
  credentials: "wizard.step.credentials",
  test: "wizard.step.test",
} as const;

function specOf(exchange: Exchange): ExchangeSpec {
  return {
    id: exchange.id,
    name: exchange.name,
    markets: exchange.markets,
    credentials: exchange.credentials,
    testnet: exchange.testnet ?? null,
  };
}

/** The report of a key the server tested and refused to store (422 `test_failed`), if that is the error. */
function refusedReport(error: unknown): TestResult | null {
  if (!(error instanceof ApiError) || error.code !== "test_failed") return null;
  const body = error.body as { test?: TestResult } | null;
  return body?.test ?? null;
}

/** The server names fields like "credentials.apiKey"; the form knows them as "apiKey". */
function formFieldOf(field: string | null): string | null {
  return field ? (field.split(".").pop() ?? null) : null;
}

export function AddConnectionWizard({ exchanges, serverInfo, existingNames, onClose }: AddConnectionWizardProps) {
  const { t } = useI18n();
  const [state, dispatch] = useReducer(transition, undefined, initialState);
  const [nextTried, setNextTried] = useState(false);
  const formId = useId();
  const bodyRef = useRef<HTMLDivElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const created = useRef(false);
  // Results arriving after the wizard closed are dropped.
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const index = progressIndex(state.step);
  const stepKey = PROGRESS_STEPS[index] ?? "test";

  // Each new step: focus its heading, so keyboard and screen-reader users start at its top.
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    heading.current?.focus();
  }, [index]);

  const exchange = exchanges.find((e) => e.id === state.exchange?.id) ?? null;

  const runTest = async (connectionId: string) => {
    try {
      const result = await api.testConnection(connectionId);
      if (alive.current) dispatch({ type: "TESTED", result });
    } catch (error) {
      if (alive.current) dispatch({ type: "TEST_FAILED", message: serverMessage(error, t) });
    }
  };

  const submit = async () => {
    const { body } = prepareSubmit(state, existingNames);
    // A valid SUBMIT moves to "saving" with the key fields emptied (their inputs unmount with the
    // step); the body, the only other copy, lives until this function returns. An invalid one stays
    // on the form, with its errors, and keeps what was typed.
    dispatch({ type: "SUBMIT", existingNames });
    if (!body) {
      // Start the fixing at the first field in error (after React has marked it).
      window.requestAnimationFrame(() => focusFirstInvalid(bodyRef.current));
      return;
    }
    try {
      const connection = await api.createConnection(body);
      created.current = true;
      if (!alive.current) return;
      dispatch({ type: "SAVED", connection: { id: connection.id, name: connection.name } });
      // The server tested the key before keeping it; an older server did not, so test it now.
      if (connection.test) dispatch({ type: "TESTED", result: connection.test });
      else await runTest(connection.id);
    } catch (error) {
      if (!alive.current) return;
      const refused = refusedReport(error);
      if (refused) {
        dispatch({ type: "REFUSED", result: refused });
        return;
      }
      const field = error instanceof ApiError ? formFieldOf(error.field) : null;
      dispatch({ type: "SAVE_FAILED", message: serverMessage(error, t), field });
    }
  };

  const retest = () => {
    if (!state.connection) return;
    dispatch({ type: "RETEST" });
    void runTest(state.connection.id);
  };

  const close = () => {
    dispatch({ type: "RESET" }); // drops anything typed, secrets included
    onClose(created.current);
  };

  const next = () => {
    if (state.step === "exchange" && !state.exchange) {
      setNextTried(true);
      return;
    }
    dispatch({ type: "NEXT" });
  };

  return (
    <Dialog title={t("wizard.title")} onClose={close} testId="wizard-dialog" wide>
      <ol className="stepper" aria-label={t("wizard.progress", { n: index + 1, total: PROGRESS_STEPS.length })}>
        {PROGRESS_STEPS.map((step, i) => (
          <li
            key={step}
            className={i === index ? "stepper-current" : i < index ? "stepper-done" : undefined}
            aria-current={i === index ? "step" : undefined}
          >
            {t(STEP_TITLES[step])}
          </li>
        ))}
      </ol>
      <h3 ref={heading} tabIndex={-1} className="step-heading" data-testid="wizard-step-heading" data-step={state.step}>
        <span className="step-count">{t("wizard.progress.heading", { n: index + 1, total: PROGRESS_STEPS.length })} </span>
        {t(STEP_TITLES[stepKey])}
      </h3>

      <div className="wizard-body" ref={bodyRef}>
        {state.step === "exchange" ? (
          <ExchangeStep
            exchanges={exchanges}
            selected={state.exchange?.id ?? null}
            onSelect={(e) => {
              setNextTried(false);
              dispatch({ type: "CHOOSE_EXCHANGE", exchange: specOf(e) });
            }}
            showRequired={nextTried && !state.exchange}
            testnet={state.testnet}
            onTestnet={(value) => dispatch({ type: "SET_TESTNET", value })}
          />
        ) : null}
        {state.step === "guide" && exchange ? <GuideStep exchange={exchange} serverInfo={serverInfo} testnet={state.testnet} /> : null}
        {state.step === "credentials" ? (
          <CredentialsStep
            formId={formId}
            state={state}
            onField={(field, value) => dispatch({ type: "SET_FIELD", field, value })}
            onCredential={(field, value) => dispatch({ type: "SET_CREDENTIAL", field, value })}
            onKeepUntested={(value) => dispatch({ type: "SET_KEEP_UNTESTED", value })}
            simulatorUrl={serverInfo?.simulator_url ?? null}
            onSubmit={() => void submit()}
          />
        ) : null}
        {index === 3 ? <TestStep state={state} /> : null}
      </div>

      <div className="button-row wizard-footer">
        {state.step === "guide" || state.step === "credentials" ? (
          <button type="button" className="button" onClick={() => dispatch({ type: "BACK" })} data-testid="wizard-back">
            {t("wizard.back")}
          </button>
        ) : null}
        {state.step !== "result" ? (
          <button type="button" className="button button-quiet" onClick={close} data-testid="wizard-cancel">
            {t("wizard.cancel")}
          </button>
        ) : null}
        <span className="spacer" />
        {state.step === "exchange" || state.step === "guide" ? (
          <button type="button" className="button button-primary" onClick={next} data-testid="wizard-next">
            {t("wizard.next")}
          </button>
        ) : null}
        {state.step === "credentials" ? (
          <button type="submit" form={formId} className="button button-primary" data-testid="wizard-run-test">
            {t("wizard.runTest")}
          </button>
        ) : null}
        {state.step === "result" && state.connection ? (
          <button type="button" className="button" onClick={retest} data-testid="wizard-retest">
            {t("wizard.retest")}
          </button>
        ) : null}
        {state.step === "result" ? (
          <button type="button" className="button button-primary" onClick={close} data-testid="wizard-done">
            {t("wizard.done")}
          </button>
        ) : null}
      </div>
    </Dialog>
  );
}
