// Form validation for the wizard and the rotate dialog. Pure; mirrors the server's own checks
// (services/connections/validation.py) so most mistakes are caught before a secret leaves the page.
import type { CredentialField, Market } from "../api/types";
import { CREDENTIAL_FIELDS } from "../api/types";
import type { MessageKey, Params } from "../i18n/catalogue";

export interface ValidationError {
  key: MessageKey;
  params?: Params;
  /** Params that are themselves message keys (e.g. a field label), translated before formatting. */
  paramKeys?: Record<string, MessageKey>;
}

export const MAX_NAME_LENGTH = 64;

/** [min, max] lengths the server accepts per credential field. */
export const CREDENTIAL_LENGTHS: Record<CredentialField, readonly [number, number]> = {
  apiKey: [8, 512],
  secret: [8, 8192],
  password: [1, 256],
  uid: [1, 128],
};

// Unicode "C*" categories: control, format, unassigned, private use, surrogates.
const CONTROL = /\p{C}/u;
const WHITESPACE = /\s/u;

export function validateName(name: string, existingNames: readonly string[] = []): ValidationError | null {
  const trimmed = name.trim();
  if (!trimmed) return { key: "validation.name.empty" };
  const length = [...trimmed].length; // code points, as Python's len() counts them
  if (length > MAX_NAME_LENGTH) {
    return { key: "validation.name.tooLong", params: { max: MAX_NAME_LENGTH, length } };
  }
  if (CONTROL.test(trimmed)) return { key: "validation.name.control" };
  // The server compares names case-insensitively.
  if (existingNames.some((n) => n.toLowerCase() === trimmed.toLowerCase())) {
    return { key: "validation.name.duplicate" };
  }
  return null;
}

export function isCredentialField(value: string): value is CredentialField {
  return (CREDENTIAL_FIELDS as readonly string[]).includes(value);
}

/** The credential fields an exchange needs, in ccxt's order; the server always needs apiKey and secret. */
export function credentialFieldsFor(exchangeCredentials: readonly string[]): CredentialField[] {
  const wanted = new Set<string>(["apiKey", "secret", ...exchangeCredentials]);
  return CREDENTIAL_FIELDS.filter((f) => wanted.has(f));
}

export function validateCredential(
  field: CredentialField,
  value: string,
  exchangeName: string,
): ValidationError | null {
  if (value === "") {
    return {
      key: "validation.credential.required",
      params: { exchange: exchangeName },
      paramKeys: { field: `cred.${field}` },
    };
  }
  // Keys, secrets and UIDs never contain whitespace; a passphrase may, but not at either end (a paste
  // with a trailing newline is the usual cause of "invalid key").
  const badSpace = field === "password" ? value !== value.trim() : WHITESPACE.test(value);
  if (badSpace || CONTROL.test(value)) return { key: "validation.credential.whitespace" };
  const [min, max] = CREDENTIAL_LENGTHS[field];
  const length = [...value].length;
  if (length < min) return { key: "validation.credential.tooShort", params: { length, min } };
  if (length > max) return { key: "validation.credential.tooLong", params: { max } };
  return null;
}

/** Every required field present and sane; fields the exchange does not use must be absent. */
export function validateCredentials(
  fields: readonly CredentialField[],
  values: Partial<Record<CredentialField, string>>,
  exchangeName: string,
): Partial<Record<CredentialField, ValidationError>> {
  const errors: Partial<Record<CredentialField, ValidationError>> = {};
  for (const field of fields) {
    const error = validateCredential(field, values[field] ?? "", exchangeName);
    if (error) errors[field] = error;
  }
  return errors;
}

// Same shape the server accepts (adapters/exchanges/endpoint.py), checked again by the URL parser.
const ENDPOINT = /^https?:\/\/[^/\s]+(\/\S*)?$/;

/** Empty is fine (no override); otherwise an http(s) base URL with a host. */
export function validateEndpoint(value: string): ValidationError | null {
  const trimmed = value.trim();
  if (trimmed === "") return null;
  if (!ENDPOINT.test(trimmed)) return { key: "validation.endpoint.invalid" };
  try {
    const url = new URL(trimmed);
    if (!url.hostname || url.username || url.password) return { key: "validation.endpoint.invalid" };
  } catch {
    return { key: "validation.endpoint.invalid" };
  }
  return null;
}

/** The market choices an exchange offers: its markets, plus "both" when it has spot and futures. */
export function marketsFor(exchangeMarkets: readonly string[]): Market[] {
  const result: Market[] = [];
  if (exchangeMarkets.includes("spot")) result.push("spot");
  if (exchangeMarkets.includes("futures")) result.push("futures");
  if (result.length === 2) result.push("both");
  return result;
}

export function validateMarket(market: string, exchangeMarkets: readonly string[]): ValidationError | null {
  return (marketsFor(exchangeMarkets) as string[]).includes(market)
    ? null
    : { key: "validation.market.unsupported" };
}
