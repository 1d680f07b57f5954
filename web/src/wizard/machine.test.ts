import { describe, expect, it } from "vitest";
import type { TestResult } from "../api/types";
import {
  buildCreateBody,
  initialState,
  prepareSubmit,
  progressIndex,
  requiredFields,
  transition,
  type ExchangeSpec,
  type WizardEvent,
  type WizardState,
} from "./machine";

const MEXC: ExchangeSpec = { id: "mexc", name: "MEXC", markets: ["futures", "spot"], credentials: ["apiKey", "secret"] };
const KUCOIN: ExchangeSpec = {
  id: "kucoin",
  name: "KuCoin",
  markets: ["futures", "spot"],
  credentials: ["apiKey", "secret", "password"],
};
const FUTURES_ONLY: ExchangeSpec = { id: "fx", name: "FX", markets: ["futures"], credentials: ["apiKey", "secret"] };

const KEY = "mx0vglABCDEFGH12";
const SECRET = "s3cr3t-VALUE-that-must-vanish";
const PASSPHRASE = "my pass phrase";

function run(state: WizardState, ...events: WizardEvent[]): WizardState {
  return events.reduce(transition, state);
}

function atCredentials(exchange: ExchangeSpec = MEXC): WizardState {
  return run(initialState(), { type: "CHOOSE_EXCHANGE", exchange }, { type: "NEXT" }, { type: "NEXT" });
}

function filled(exchange: ExchangeSpec = MEXC): WizardState {
  let state = run(
    atCredentials(exchange),
    { type: "SET_CREDENTIAL", field: "apiKey", value: KEY },
    { type: "SET_CREDENTIAL", field: "secret", value: SECRET },
    { type: "SET_FIELD", field: "name", value: "  MEXC Spot Main  " },
  );
  if (exchange.credentials.includes("password")) {
    state = transition(state, { type: "SET_CREDENTIAL", field: "password", value: PASSPHRASE });
  }
  return state;
}

const RESULT: TestResult = {
  name: "MEXC Spot Main",
  exchange: "mexc",
  ok: true,
  status: "online",
  warnings: [],
  permissions: { read: true, spot_trade: true, futures_trade: false, withdraw: false, ip_restricted: true },
  checks: [{ name: "server_time", ok: true, ms: 3.2, detail: "" }],
  message: "MEXC accepted the key.",
  remedy: "",
};

describe("steps and transitions", () => {
  it("starts on the exchange step with nothing chosen", () => {
    const state = initialState();
    expect(state.step).toBe("exchange");
    expect(state.exchange).toBeNull();
    expect(state.credentials).toEqual({});
  });

  it("does not leave the exchange step before an exchange is chosen", () => {
    const state = initialState();
    expect(transition(state, { type: "NEXT" })).toBe(state);
  });

  it("walks exchange → guide → credentials and back", () => {
    const chosen = transition(initialState(), { type: "CHOOSE_EXCHANGE", exchange: MEXC });
    const guide = transition(chosen, { type: "NEXT" });
    expect(guide.step).toBe("guide");
    expect(transition(guide, { type: "BACK" }).step).toBe("exchange");
    const credentials = transition(guide, { type: "NEXT" });
    expect(credentials.step).toBe("credentials");
    expect(transition(credentials, { type: "BACK" }).step).toBe("guide");
  });

  it("ignores events a step does not allow (same state object back)", () => {
    const guide = run(initialState(), { type: "CHOOSE_EXCHANGE", exchange: MEXC }, { type: "NEXT" });
    const refused: WizardEvent[] = [
      { type: "SUBMIT", existingNames: [] },
      { type: "SET_CREDENTIAL", field: "secret", value: "x" },
      { type: "TESTED", result: RESULT },
      { type: "RETEST" },
      { type: "CHOOSE_EXCHANGE", exchange: KUCOIN },
    ];
    for (const event of refused) expect(transition(guide, event)).toBe(guide);
    const exchangeStep = initialState();
    expect(transition(exchangeStep, { type: "BACK" })).toBe(exchangeStep);
    const saving = prepareSubmit(filled(), []).next;
    expect(transition(saving, { type: "BACK" })).toBe(saving);
    expect(transition(saving, { type: "RETEST" })).toBe(saving);
  });

  it("saves, tests and shows the result; the result can be tested again", () => {
    const saving = transition(filled(), { type: "SUBMIT", existingNames: [] });
    expect(saving.step).toBe("saving");
    const testing = transition(saving, { type: "SAVED", connection: { id: "c1", name: "MEXC Spot Main" } });
    expect(testing.step).toBe("testing");
    expect(testing.connection).toEqual({ id: "c1", name: "MEXC Spot Main" });
    const result = transition(testing, { type: "TESTED", result: RESULT });
    expect(result.step).toBe("result");
    expect(result.result?.status).toBe("online");
    const again = transition(result, { type: "RETEST" });
    expect(again.step).toBe("testing");
    expect(again.connection?.id).toBe("c1");
  });

  it("a failed save returns to the form with the server's message on the field it names", () => {
    const saving = transition(filled(), { type: "SUBMIT", existingNames: [] });
    const back = transition(saving, { type: "SAVE_FAILED", message: "a connection named 'X' already exists", field: "name" });
    expect(back.step).toBe("credentials");
    expect(back.failure).toEqual({ during: "save", message: "a connection named 'X' already exists" });
    expect(back.errors.name?.params?.message).toContain("already exists");
  });

  it("a test that cannot run ends on the result step with the failure", () => {
    const testing = run(filled(), { type: "SUBMIT", existingNames: [] }, { type: "SAVED", connection: { id: "c1", name: "n" } });
    const failed = transition(testing, { type: "TEST_FAILED", message: "timeout" });
    expect(failed.step).toBe("result");
    expect(failed.result).toBeNull();
    expect(failed.failure).toEqual({ during: "test", message: "timeout" });
  });

  it("maps steps onto the four progress positions", () => {
    expect(["exchange", "guide", "credentials", "saving", "testing", "result"].map((s) => progressIndex(s as WizardState["step"]))).toEqual([
      0, 1, 2, 3, 3, 3,
    ]);
  });
});

describe("required fields per exchange", () => {
  it("MEXC needs a key and a secret, no passphrase", () => {
    expect(requiredFields(MEXC)).toEqual(["apiKey", "secret"]);
  });

  it("KuCoin needs a passphrase too", () => {
    expect(requiredFields(KUCOIN)).toEqual(["apiKey", "secret", "password"]);
  });

  it("a KuCoin submit without the passphrase is refused with an error on it", () => {
    const state = run(
      atCredentials(KUCOIN),
      { type: "SET_CREDENTIAL", field: "apiKey", value: KEY },
      { type: "SET_CREDENTIAL", field: "secret", value: SECRET },
      { type: "SET_FIELD", field: "name", value: "KuCoin Futures Conservative" },
      { type: "SUBMIT", existingNames: [] },
    );
    expect(state.step).toBe("credentials");
    expect(Object.keys(state.errors)).toEqual(["password"]);
    expect(state.errors.password?.key).toBe("validation.credential.required");
  });

  it("the body carries exactly the exchange's credential fields", () => {
    const withStray = transition(filled(MEXC), { type: "SET_CREDENTIAL", field: "password", value: "stray" });
    expect(Object.keys(buildCreateBody(withStray)?.credentials ?? {})).toEqual(["apiKey", "secret"]);
    expect(buildCreateBody(filled(KUCOIN))?.credentials).toEqual({ apiKey: KEY, secret: SECRET, password: PASSPHRASE });
  });

  it("defaults the market to one the exchange has", () => {
    expect(transition(initialState(), { type: "CHOOSE_EXCHANGE", exchange: MEXC }).market).toBe("spot");
    expect(transition(initialState(), { type: "CHOOSE_EXCHANGE", exchange: FUTURES_ONLY }).market).toBe("futures");
  });

  it("trims the name and leaves the endpoint out when empty", () => {
    const body = buildCreateBody(filled());
    expect(body?.name).toBe("MEXC Spot Main");
    expect(body && "endpoint" in body).toBe(false);
    const pointed = transition(filled(), { type: "SET_FIELD", field: "endpoint", value: " http://127.0.0.1:8765 " });
    expect(buildCreateBody(pointed)?.endpoint).toBe("http://127.0.0.1:8765");
  });
});

describe("secrets are dropped", () => {
  const containsSecret = (state: WizardState) => JSON.stringify(state).includes(SECRET);

  it("on a valid submit: the state that follows holds no secret, the body does", () => {
    const before = filled();
    expect(containsSecret(before)).toBe(true);
    const { next, body } = prepareSubmit(before, []);
    expect(next.step).toBe("saving");
    expect(containsSecret(next)).toBe(false);
    expect(next.credentials).toEqual({});
    expect(body?.credentials.secret).toBe(SECRET);
    expect(containsSecret(transition(before, { type: "SUBMIT", existingNames: [] }))).toBe(false);
  });

  it("not on an invalid submit, so the user can fix the form without retyping", () => {
    const invalid = transition(filled(), { type: "SET_FIELD", field: "name", value: "" });
    const { next, body } = prepareSubmit(invalid, []);
    expect(body).toBeNull();
    expect(next.step).toBe("credentials");
    expect(next.credentials.secret).toBe(SECRET);
  });

  it("on reset, from any step", () => {
    const states = [filled(), transition(filled(), { type: "SUBMIT", existingNames: [] })];
    for (const state of states) {
      const reset = transition(state, { type: "RESET" });
      expect(reset).toEqual(initialState());
      expect(containsSecret(reset)).toBe(false);
    }
  });

  it("on going back to the guide", () => {
    const back = transition(filled(), { type: "BACK" });
    expect(back.step).toBe("guide");
    expect(containsSecret(back)).toBe(false);
    expect(back.name).toBe("  MEXC Spot Main  "); // non-secret fields survive
  });

  it("on switching exchange", () => {
    const back = run(filled(), { type: "BACK" }, { type: "BACK" });
    const switched = transition({ ...back, credentials: { apiKey: KEY } }, { type: "CHOOSE_EXCHANGE", exchange: KUCOIN });
    expect(switched.credentials).toEqual({});
    expect(switched.exchange?.id).toBe("kucoin");
  });

  it("and a failed save does not bring them back", () => {
    const saving = transition(filled(), { type: "SUBMIT", existingNames: [] });
    const back = transition(saving, { type: "SAVE_FAILED", message: "boom" });
    expect(containsSecret(back)).toBe(false);
  });
});

describe("errors while typing", () => {
  it("before a submit, editing a field only clears that field's error", () => {
    const withError = { ...atCredentials(), errors: { name: { key: "validation.name.empty" as const } } };
    const edited = transition(withError, { type: "SET_FIELD", field: "name", value: "x" });
    expect(edited.errors.name).toBeUndefined();
    const untouched = transition(atCredentials(), { type: "SET_CREDENTIAL", field: "apiKey", value: " bad" });
    expect(untouched.errors).toEqual({}); // nobody is scolded mid-typing
  });

  it("after a failed submit, every edit re-validates the form", () => {
    const refused = transition(atCredentials(), { type: "SUBMIT", existingNames: [] });
    expect(refused.attempted).toBe(true);
    expect(Object.keys(refused.errors).sort()).toEqual(["apiKey", "name", "secret"]);
    const typed = transition(refused, { type: "SET_CREDENTIAL", field: "apiKey", value: "has space inside" });
    expect(typed.errors.apiKey?.key).toBe("validation.credential.whitespace");
  });

  it("refuses a name that already exists, whatever its case", () => {
    const state = transition(filled(), { type: "SUBMIT", existingNames: ["mexc spot main"] });
    expect(state.step).toBe("credentials");
    expect(state.errors.name?.key).toBe("validation.name.duplicate");
  });
});

describe("the testnet / demo account", () => {
  const BINANCE: ExchangeSpec = {
    id: "binance",
    name: "Binance",
    markets: ["futures", "spot"],
    credentials: ["apiKey", "secret"],
    testnet: "Spot Testnet (testnet.binance.vision)",
  };
  const BYBIT: ExchangeSpec = { ...BINANCE, id: "bybit", name: "Bybit", testnet: "Testnet (api-testnet.bybit.com)" };
  const chosen = (exchange: ExchangeSpec) => transition(initialState(), { type: "CHOOSE_EXCHANGE", exchange });

  it("is off by default, and the body then says nothing about it", () => {
    expect(initialState().testnet).toBe(false);
    const body = buildCreateBody(filled(BINANCE));
    expect(body).not.toBeNull();
    expect(body && "testnet" in body).toBe(false);
  });

  it("ticked on step 1, it is sent as testnet: true and survives the steps", () => {
    const ticked = transition(chosen(BINANCE), { type: "SET_TESTNET", value: true });
    expect(ticked.testnet).toBe(true);
    const state = run(
      ticked,
      { type: "NEXT" },
      { type: "NEXT" },
      { type: "SET_CREDENTIAL", field: "apiKey", value: KEY },
      { type: "SET_CREDENTIAL", field: "secret", value: SECRET },
      { type: "SET_FIELD", field: "name", value: "Binance Play" },
      { type: "BACK" },
      { type: "NEXT" },
      { type: "SET_CREDENTIAL", field: "apiKey", value: KEY },
      { type: "SET_CREDENTIAL", field: "secret", value: SECRET },
    );
    expect(state.testnet).toBe(true);
    const { next, body } = prepareSubmit(state, []);
    expect(body?.testnet).toBe(true);
    expect(next.testnet).toBe(true); // the test step still knows what was added
    expect(transition(ticked, { type: "SET_TESTNET", value: false }).testnet).toBe(false);
  });

  it("cannot be chosen for an exchange without one, nor before an exchange is chosen", () => {
    const mexc = chosen(MEXC);
    expect(transition(mexc, { type: "SET_TESTNET", value: true })).toBe(mexc);
    expect(transition(initialState(), { type: "SET_TESTNET", value: true }).testnet).toBe(false);
    expect(buildCreateBody({ ...filled(MEXC), testnet: true })?.testnet).toBeUndefined();
  });

  it("is cleared by switching exchange, even to another that has one", () => {
    const ticked = transition(chosen(BINANCE), { type: "SET_TESTNET", value: true });
    expect(transition(ticked, { type: "CHOOSE_EXCHANGE", exchange: MEXC }).testnet).toBe(false);
    expect(transition(ticked, { type: "CHOOSE_EXCHANGE", exchange: BYBIT }).testnet).toBe(false);
    expect(transition(ticked, { type: "CHOOSE_EXCHANGE", exchange: BINANCE }).testnet).toBe(true);
    expect(transition(ticked, { type: "CHOOSE_EXCHANGE", exchange: { ...BINANCE, testnet: null } }).testnet).toBe(false);
  });

  it("is only set on the exchange step, and reset with the rest", () => {
    const guide = run(chosen(BINANCE), { type: "NEXT" });
    expect(transition(guide, { type: "SET_TESTNET", value: true })).toBe(guide);
    const ticked = transition(chosen(BINANCE), { type: "SET_TESTNET", value: true });
    expect(transition(ticked, { type: "RESET" }).testnet).toBe(false);
  });
});
