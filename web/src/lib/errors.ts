// An error from an API call, as a sentence for the user. The server's own messages are English and
// are shown as they are; what the page itself knows (network down, session over) is translated.
import { ApiError } from "../api/client";
import type { I18n } from "../i18n/I18nContext";

export function errorText(error: unknown, t: I18n["t"]): string {
  if (error instanceof ApiError) {
    if (error.code === "network") return t("common.error.network");
    if (error.status === 401) return t("common.error.session");
    if (error.status === 403) return t("common.error.forbidden", { message: error.message });
    return t("common.error.server", { message: error.message });
  }
  return t("common.error.server", { message: error instanceof Error ? error.message : String(error) });
}

/** The server's message alone (for places whose own text already says "the server answered"). */
export function serverMessage(error: unknown, t: I18n["t"]): string {
  if (error instanceof ApiError && error.code !== "network" && error.status !== 401) return error.message;
  return errorText(error, t);
}
