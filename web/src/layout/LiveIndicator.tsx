// Whether live updates are flowing (the stream is open) or the page is waiting to reconnect.
import { useI18n } from "../i18n/I18nContext";
import { useLive } from "../live/LiveContext";

export function LiveIndicator() {
  const { t } = useI18n();
  const { phase, retryInS } = useLive();
  const text =
    phase === "open" ? t("live.open") : phase === "connecting" ? t("live.connecting") : t("live.retry", { seconds: retryInS });
  return (
    <span className={`live live-${phase}`} data-testid="live-indicator" data-phase={phase}>
      <span className="live-dot" aria-hidden="true" />
      {text}
    </span>
  );
}
