import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import type { TicketInfo } from "../api/types";
import { en } from "../i18n/en";
import type { MessageKey, Params } from "../i18n/catalogue";
import { translate } from "../i18n/locales";
import { REFUSAL_REASONS, refusalReason, refusalText } from "./refusal";

const TICKET: TicketInfo = {
  connection: "KC", exchange: "kucoin", pair: "BTC/USDT", testnet: false, bid: "49990", ask: "50010",
  maker_fee: "0.001", taker_fee: "0.001", min_notional: "5", min_amount: "1E-8", amount_step: "1E-8",
  price_step: "0.1", base: "BTC", quote: "USDT",
};
const t = (locale: "en" | "it") => (key: MessageKey, params?: Params) => translate(locale, key, params);

describe("refusals", () => {
  it("reads the guard's reason from the API's code, and only from an order refusal", () => {
    expect(refusalReason(new ApiError(422, "order_refused.min_notional", "notional 0.5 is below 5"))).toBe("min_notional");
    expect(refusalReason(new ApiError(422, "order_refused.something_new", "?"))).toBe("other");
    expect(refusalReason(new ApiError(422, "invalid_input", "a limit order needs a price"))).toBeNull();
    expect(refusalReason(new Error("x"))).toBeNull();
  });

  it("has a sentence for every reason the server's guard names", () => {
    for (const reason of [...REFUSAL_REASONS, "other"]) expect(`trade.refused.${reason}` in en, reason).toBe(true);
  });

  it("says why in plain words, with the ticket's figures, in the user's language", () => {
    expect(refusalText(t("en"), "min_notional", "BTC/USDT", "KuCoin", TICKET)).toBe(
      "The order is worth less than the exchange's minimum of 5 USDT. Raise the amount.",
    );
    expect(refusalText(t("en"), "min_amount", "BTC/USDT", "KuCoin", TICKET)).toContain("0.00000001 BTC");
    expect(refusalText(t("it"), "withdraw_enabled", "BTC/USDT", "KuCoin", TICKET)).toMatch(/prelevare/);
    expect(refusalText(t("en"), "pair_not_allowed", "NOPE/USDT", "KuCoin", TICKET)).toBe(
      "KuCoin has no market NOPE/USDT. Use the exchange's symbol, e.g. BTC/USDT.",
    );
    // A ticket for another pair lends no figures.
    expect(refusalText(t("en"), "min_notional", "ETH/USDT", "KuCoin", TICKET)).toContain("minimum of — ");
  });
});
