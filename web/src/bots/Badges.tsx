// A bot's mode (paper or live: always visible, in words and a glyph) and its Recovery Mode state.
import { useI18n } from "../i18n/I18nContext";
import type { Bot } from "./api";

export function ModeBadge({ mode }: { mode: Bot["mode"] }) {
  const { t } = useI18n();
  const live = mode === "live";
  return (
    <span className={`badge ${live ? "badge-error" : "badge-neutral"}`} data-testid="bot-mode" data-mode={mode}>
      <span aria-hidden="true" className="badge-glyph">
        {live ? "●" : "◌"}
      </span>
      {live ? t("bots.mode.live") : t("bots.mode.paper")}
    </span>
  );
}

const STATUS_TONE: Record<string, string> = { running: "ok", paused: "warn", error: "error", stopped: "neutral", created: "neutral" };

export function BotStatusBadge({ status }: { status: string }) {
  const { t } = useI18n();
  const known = ["running", "paused", "stopped", "created", "error"].includes(status);
  return (
    <span className={`badge badge-${STATUS_TONE[status] ?? "neutral"}`} data-testid="bot-status" data-status={status}>
      {known ? t(`bots.status.${status}` as "bots.status.running") : status}
    </span>
  );
}

export function RecoveryBadge({ bot }: { bot: Pick<Bot, "recovery" | "recovery_active"> }) {
  const { t } = useI18n();
  if (!bot.recovery) return null;
  return (
    <span
      className={`badge ${bot.recovery_active ? "badge-warn" : "badge-neutral"}`}
      data-testid="bot-recovery"
      data-active={String(bot.recovery_active)}
      title={t("bots.recovery.hint")}
    >
      {bot.recovery_active ? t("bots.recovery.active") : t("bots.recovery.on")}
    </span>
  );
}
