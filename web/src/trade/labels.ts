// Order codes from the server (side, status, mode) in the user's language; an unknown code is shown as it is.
import type { MessageKey } from "../i18n/catalogue";
import { en } from "../i18n/en";
import type { Translate } from "../i18n/server";

function known(t: Translate, key: string, fallback: string): string {
  return key in en ? t(key as MessageKey) : fallback;
}

export function sideLabel(t: Translate, side: string): string {
  return known(t, `trade.side.${side}`, side);
}

export function typeLabel(t: Translate, type: string): string {
  return known(t, `trade.type.${type}`, type);
}

export function statusLabel(t: Translate, status: string): string {
  return known(t, `trade.status.${status}`, status);
}

/** "Paper", "Live", or "Testnet" for a live order on a testnet connection (its funds are not real). */
export function modeLabel(t: Translate, mode: string, testnet: boolean): string {
  if (mode === "live" && testnet) return t("trade.mode.testnet");
  return known(t, `trade.mode.${mode}`, mode);
}

/** Statuses of an order that may still fill (the server lists these as open). */
export function isOpen(status: string): boolean {
  return status === "open" || status === "pending" || status === "unknown";
}
