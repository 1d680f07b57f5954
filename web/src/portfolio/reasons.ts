// Why a connection is left out of the portfolio total, in the user's language.
import type { PortfolioConnection } from "../api/types";
import { serverText, type Translate } from "../i18n/server";

export function excludedReason(t: Translate, connection: PortfolioConnection): string {
  if (connection.testnet && !connection.error) return t("trade.portfolio.notCounted");
  const english = connection.error ?? "";
  return serverText(t, connection.error_code, { name: connection.name, ...connection.error_params }, english);
}
