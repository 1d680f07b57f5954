// Connection status → badge: the label to show and the tone to paint it. Pure, so every status is tested.
import type { MessageKey } from "../i18n/catalogue";

/** Every status the server reports: the test's outcomes, plus the states before any test. */
export const STATUSES = [
  "online",
  "invalid_key",
  "no_trade_permission",
  "no_futures_permission",
  "ip_not_allowed",
  "withdraw_enabled",
  "clock_skew",
  "rate_limited",
  "exchange_unavailable",
  "expired",
  "integrity_error",
  "untested",
  "awaiting_api_key",
] as const;
export type Status = (typeof STATUSES)[number];

/**
 * ok: bots may use it. error: the key or its settings must change on the exchange. warn: a passing
 * condition (clock, rate limit, outage) that a later test may clear. neutral: not tested yet.
 */
export type Tone = "ok" | "error" | "warn" | "neutral";

export interface Badge {
  status: string;
  tone: Tone;
  labelKey: MessageKey;
  /** false for a status this build does not know (a newer server): shown with its raw code. */
  known: boolean;
}

const TONES: Record<Status, Tone> = {
  online: "ok",
  invalid_key: "error",
  no_trade_permission: "error",
  no_futures_permission: "error",
  ip_not_allowed: "error",
  withdraw_enabled: "error",
  expired: "error",
  integrity_error: "error",
  clock_skew: "warn",
  rate_limited: "warn",
  exchange_unavailable: "warn",
  untested: "neutral",
  awaiting_api_key: "neutral",
};

export function isStatus(value: string): value is Status {
  return (STATUSES as readonly string[]).includes(value);
}

export function badgeFor(status: string): Badge {
  if (isStatus(status)) {
    return { status, tone: TONES[status], labelKey: `status.${status}`, known: true };
  }
  return { status, tone: "neutral", labelKey: "status.unknown", known: false };
}

/** A glyph per tone, so the badge does not speak through colour alone (hidden from screen readers). */
export const TONE_GLYPH: Record<Tone, string> = { ok: "✓", error: "✕", warn: "!", neutral: "•" };

export const WARNINGS = ["ip_unrestricted", "permissions_unknown"] as const;
export type Warning = (typeof WARNINGS)[number];

export function warningKeys(code: string): { labelKey: MessageKey; hintKey: MessageKey | null } {
  if ((WARNINGS as readonly string[]).includes(code)) {
    const known = code as Warning;
    return { labelKey: `warning.${known}`, hintKey: `warning.${known}.hint` };
  }
  return { labelKey: "warning.unknown", hintKey: null };
}

export const CHECKS = [
  "server_time",
  "authenticated_read",
  "key_permissions",
  "ip_restriction",
  "spot_market",
  "futures_account",
] as const;

/** The label of a connection-test step, or null for a step this build does not know (show its name). */
export function checkLabelKey(name: string): MessageKey | null {
  return (CHECKS as readonly string[]).includes(name) ? (`check.${name}` as MessageKey) : null;
}
