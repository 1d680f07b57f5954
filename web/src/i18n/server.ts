// Server text, translated: the API sends each sentence as a code with params beside its English text
// (issue 10). A code this build knows is shown in the user's language; an unknown one (a newer server)
// falls back to the server's English. Params that are themselves codes (a status, permission names)
// are translated too; the rest (exchange names, the exchange's own setting labels, addresses) are shown
// as the server gave them.
import { badgeFor } from "../connections/status";
import type { MessageKey, Params } from "./catalogue";
import { en } from "./en";

export type Translate = (key: MessageKey, params?: Params) => string;

const PERMISSIONS = new Set(["read", "spot_trade", "futures_trade", "withdraw", "ip_restricted"]);

/** True when this build has a sentence for the server code `code`. */
export function knowsCode(code: string | null | undefined): code is string {
  return typeof code === "string" && `srv.${code}` in en;
}

function translateParam(t: Translate, name: string, value: string): string {
  if (name === "status" || name === "previous") {
    const badge = badgeFor(value);
    return badge.known ? t(badge.labelKey, { code: value }) : value;
  }
  if (name === "market" && ["spot", "futures", "both"].includes(value)) return t(`market.${value}` as MessageKey);
  // An order's side, type and mode (audit sentences of orders and bots), with the order ticket's words.
  if (name === "side" && ["buy", "sell"].includes(value)) return t(`trade.side.${value}` as MessageKey);
  if (name === "type" && ["limit", "market"].includes(value)) return t(`trade.type.${value}` as MessageKey);
  if (name === "mode" && ["paper", "live"].includes(value)) return t(`trade.mode.${value}` as MessageKey);
  if (name === "permissions") {
    return value
      .split(/,\s*/)
      .map((p) => (PERMISSIONS.has(p) ? t(`perm.${p}` as MessageKey) : p === "nothing" ? "—" : p))
      .join(", ");
  }
  return value;
}

/** The params of a server sentence, with its code-valued params translated. */
export function translateParams(t: Translate, params: Record<string, string> | undefined): Params {
  const out: Params = {};
  for (const [name, value] of Object.entries(params ?? {})) out[name] = translateParam(t, name, String(value));
  return out;
}

/** One server sentence in the user's language: by code when known, else the server's English `fallback`. */
export function serverText(
  t: Translate,
  code: string | null | undefined,
  params: Record<string, string> | undefined,
  fallback: string,
): string {
  if (!knowsCode(code)) return fallback;
  return t(`srv.${code}` as MessageKey, translateParams(t, params));
}

/** An exchange guide's sentence (`part` = where | ip | note0…), translated when this build's English copy
 * of it is the same as the server's, so a guide the server has since reworded is never mistranslated. */
export function guideText(t: Translate, exchange: string, part: string, fallback: string): string {
  const key = `guide.${exchange}.${part}`;
  if (!(key in en) || en[key as MessageKey] !== fallback) return fallback;
  return t(key as MessageKey);
}

const FUTURES_ONLY = " (only for futures bots)";

/** A setting label from a guide: the exchange's own words stay, our "(only for futures bots)" is translated. */
export function guideSetting(t: Translate, label: string): string {
  return label.endsWith(FUTURES_ONLY) ? `${label.slice(0, -FUTURES_ONLY.length)} ${t("guide.futuresOnly")}` : label;
}
