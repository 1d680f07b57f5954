// The add-connection wizard as a pure state machine: steps, the transitions each step allows, what
// each exchange requires, and where secrets are dropped. The React component only renders the state
// and performs the API calls the states ask for, so everything here is unit-tested without a browser.
import type { CreateConnectionBody, CredentialField, Market, TestResult } from "../api/types";
import {
  credentialFieldsFor,
  marketsFor,
  validateCredentials,
  validateEndpoint,
  validateMarket,
  validateName,
  type ValidationError,
} from "./validation";

/**
 * exchange → guide → credentials → saving → testing → result.
 * saving and testing wait for the API; result may go back to testing (run again).
 */
export type Step = "exchange" | "guide" | "credentials" | "saving" | "testing" | "result";

/** What the wizard needs to know about an exchange (a subset of the API's Exchange). */
export interface ExchangeSpec {
  id: string;
  name: string;
  markets: string[];
  credentials: string[];
  /** The exchange's testnet/demo environment, or null/absent when it has none. */
  testnet?: string | null;
}

export type FormField = "name" | "market" | "endpoint";
export type FieldName = FormField | CredentialField;
export type Credentials = Partial<Record<CredentialField, string>>;

export interface WizardState {
  step: Step;
  exchange: ExchangeSpec | null;
  name: string;
  market: Market;
  endpoint: string;
  /** Add the connection on the exchange's testnet/demo account (only when the exchange has one). */
  testnet: boolean;
  /** The secrets, only while the credentials step is showing; emptied on submit, back and reset. */
  credentials: Credentials;
  errors: Partial<Record<FieldName, ValidationError>>;
  /** After a submit attempt, errors follow every keystroke; before it, nobody is scolded mid-typing. */
  attempted: boolean;
  /** Keep the connection even if its key fails the test (the API's keep_untested). */
  keepUntested: boolean;
  connection: { id: string; name: string } | null;
  result: TestResult | null;
  /** The key failed its test on save and was not kept (no connection exists). */
  refused: boolean;
  failure: { during: "save" | "test"; message: string } | null;
}

export type WizardEvent =
  | { type: "CHOOSE_EXCHANGE"; exchange: ExchangeSpec }
  | { type: "SET_TESTNET"; value: boolean }
  | { type: "NEXT" }
  | { type: "BACK" }
  | { type: "SET_FIELD"; field: FormField; value: string }
  | { type: "SET_CREDENTIAL"; field: CredentialField; value: string }
  | { type: "SET_KEEP_UNTESTED"; value: boolean }
  | { type: "REFUSED"; result: TestResult }
  | { type: "SUBMIT"; existingNames: readonly string[] }
  | { type: "SAVED"; connection: { id: string; name: string } }
  | { type: "SAVE_FAILED"; message: string; field?: string | null }
  | { type: "TESTED"; result: TestResult }
  | { type: "TEST_FAILED"; message: string }
  | { type: "RETEST" }
  | { type: "RESET" };

/** The four steps the progress indicator counts (saving/testing/result are all "Test"). */
export const PROGRESS_STEPS = ["exchange", "guide", "credentials", "test"] as const;

export function progressIndex(step: Step): number {
  switch (step) {
    case "exchange":
      return 0;
    case "guide":
      return 1;
    case "credentials":
      return 2;
    default:
      return 3;
  }
}

export function initialState(): WizardState {
  return {
    step: "exchange",
    exchange: null,
    name: "",
    market: "spot",
    endpoint: "",
    testnet: false,
    credentials: {},
    errors: {},
    attempted: false,
    keepUntested: false,
    connection: null,
    result: null,
    refused: false,
    failure: null,
  };
}

/** The credential fields the chosen exchange needs (none before one is chosen). */
export function requiredFields(exchange: ExchangeSpec | null): CredentialField[] {
  return exchange ? credentialFieldsFor(exchange.credentials) : [];
}

/** Every problem with the form as it stands; empty when it may be submitted. */
export function validateForm(
  state: WizardState,
  existingNames: readonly string[],
): Partial<Record<FieldName, ValidationError>> {
  const errors: Partial<Record<FieldName, ValidationError>> = {};
  const exchange = state.exchange;
  if (!exchange) return errors;
  const name = validateName(state.name, existingNames);
  if (name) errors.name = name;
  const market = validateMarket(state.market, exchange.markets);
  if (market) errors.market = market;
  const endpoint = validateEndpoint(state.endpoint);
  if (endpoint) errors.endpoint = endpoint;
  Object.assign(errors, validateCredentials(requiredFields(exchange), state.credentials, exchange.name));
  return errors;
}

/** The POST /connections body: only the fields this exchange uses; no endpoint key when empty. */
export function buildCreateBody(state: WizardState): CreateConnectionBody | null {
  const exchange = state.exchange;
  if (!exchange) return null;
  const credentials: Credentials = {};
  for (const field of requiredFields(exchange)) credentials[field] = state.credentials[field] ?? "";
  const body: CreateConnectionBody = {
    name: state.name.trim(),
    exchange: exchange.id,
    market: state.market,
    credentials,
    // The server tests the key before storing it and keeps a failing one only when asked to.
    test: true,
    keep_untested: state.keepUntested,
  };
  const endpoint = state.endpoint.trim();
  if (endpoint) body.endpoint = endpoint;
  // Only an exchange that has a testnet can be asked for it; otherwise the key is omitted (a real account).
  if (state.testnet && hasTestnet(exchange)) body.testnet = true;
  return body;
}

/**
 * What a submit does: either the form with its errors, or the request body to send and a state in
 * which the secrets are already gone. The component calls this to get the body and dispatches SUBMIT,
 * which reaches the same state (the function is deterministic).
 */
export function prepareSubmit(
  state: WizardState,
  existingNames: readonly string[],
): { next: WizardState; body: CreateConnectionBody | null } {
  if (state.step !== "credentials") return { next: state, body: null };
  const errors = validateForm(state, existingNames);
  if (Object.keys(errors).length > 0) {
    return { next: { ...state, errors, attempted: true, failure: null }, body: null };
  }
  const body = buildCreateBody(state);
  return {
    next: { ...state, step: "saving", credentials: {}, errors: {}, attempted: false, failure: null },
    body,
  };
}

/** Whether the exchange offers a testnet/demo account a connection can be added on. */
export function hasTestnet(exchange: ExchangeSpec | null): boolean {
  return Boolean(exchange?.testnet);
}

function defaultMarket(exchange: ExchangeSpec): Market {
  return marketsFor(exchange.markets)[0] ?? "spot";
}

const FORM_FIELDS: readonly string[] = ["name", "market", "endpoint"];

/** Apply one event; an event the current step does not allow returns the same state object. */
export function transition(state: WizardState, event: WizardEvent): WizardState {
  if (event.type === "RESET") return initialState();

  switch (state.step) {
    case "exchange":
      if (event.type === "CHOOSE_EXCHANGE") {
        if (state.exchange?.id === event.exchange.id) {
          return { ...state, exchange: event.exchange, testnet: state.testnet && hasTestnet(event.exchange) };
        }
        // Another exchange: its markets, credential fields and testnet differ, so start those afresh.
        return {
          ...state,
          exchange: event.exchange,
          market: defaultMarket(event.exchange),
          testnet: false,
          credentials: {},
          errors: {},
          attempted: false,
        };
      }
      if (event.type === "SET_TESTNET") {
        const testnet = event.value && hasTestnet(state.exchange);
        return testnet === state.testnet ? state : { ...state, testnet };
      }
      if (event.type === "NEXT" && state.exchange) return { ...state, step: "guide" };
      return state;

    case "guide":
      if (event.type === "BACK") return { ...state, step: "exchange" };
      if (event.type === "NEXT") return { ...state, step: "credentials" };
      return state;

    case "credentials":
      switch (event.type) {
        case "BACK":
          // Leaving the step drops what was typed into the key fields: they are not kept around
          // while the user reads the guide, and the inputs are unmounted anyway.
          return { ...state, step: "guide", credentials: {}, errors: {}, attempted: false, failure: null };
        case "SET_FIELD": {
          const next = { ...state, [event.field]: event.value };
          return revalidate(next, event.field);
        }
        case "SET_CREDENTIAL": {
          const next = { ...state, credentials: { ...state.credentials, [event.field]: event.value } };
          return revalidate(next, event.field);
        }
        case "SET_KEEP_UNTESTED":
          return { ...state, keepUntested: event.value };
        case "SUBMIT":
          return prepareSubmit(state, event.existingNames).next;
        default:
          return state;
      }

    case "saving":
      if (event.type === "SAVED") {
        return { ...state, step: "testing", connection: event.connection, result: null, failure: null };
      }
      if (event.type === "REFUSED") {
        return { ...state, step: "result", connection: null, result: event.result, refused: true, failure: null };
      }
      if (event.type === "SAVE_FAILED") {
        // Back to the form to fix it; the secrets were dropped on submit and must be typed again.
        const errors: WizardState["errors"] = {};
        if (event.field && FORM_FIELDS.includes(event.field)) {
          errors[event.field as FormField] = { key: "common.error.server", params: { message: event.message } };
        }
        return { ...state, step: "credentials", errors, failure: { during: "save", message: event.message } };
      }
      return state;

    case "testing":
      if (event.type === "TESTED") return { ...state, step: "result", result: event.result, failure: null };
      if (event.type === "TEST_FAILED") {
        return { ...state, step: "result", result: null, failure: { during: "test", message: event.message } };
      }
      return state;

    case "result":
      if (event.type === "RETEST") return { ...state, step: "testing", failure: null };
      return state;
  }
}

/** After an edit: before the first submit only clear the edited field's error; after it, recheck all. */
function revalidate(state: WizardState, field: FieldName): WizardState {
  if (!state.attempted) {
    if (!(field in state.errors)) return state;
    const errors = { ...state.errors };
    delete errors[field];
    return { ...state, errors };
  }
  // Names of existing connections are not known here; the duplicate check runs again on submit.
  return { ...state, errors: validateForm(state, []) };
}
