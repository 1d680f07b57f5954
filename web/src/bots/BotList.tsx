// Every bot: status, pair(s), paper or live, P&L, margin in use, Recovery Mode; polled every few seconds.
import { useState } from "react";
import { useI18n } from "../i18n/I18nContext";
import { PageHeader } from "../layout/PageHeader";
import { errorText } from "../lib/errors";
import { botsApi, type Bot } from "./api";
import { BotStatusBadge, ModeBadge, RecoveryBadge } from "./Badges";
import { amountDisplay, pnlDisplay } from "./format";
import { botHref, newBotHref, totalPnl } from "./model";
import { usePoll } from "./usePoll";

export function BotList() {
  const { t, locale } = useI18n();
  const [bots, setBots] = useState<Bot[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  usePoll(async (signal) => {
    try {
      const found = await botsApi.list();
      if (!signal.aborted) {
        setBots(found);
        setError(null);
      }
    } catch (caught) {
      if (!signal.aborted) setError(errorText(caught, t));
    }
  });

  const col = {
    status: t("bots.col.status"),
    pairs: t("bots.col.pairs"),
    mode: t("bots.col.mode"),
    pnl: t("bots.col.pnl"),
    margin: t("bots.col.margin"),
    recovery: t("bots.col.recovery"),
  };
  return (
    <>
      <PageHeader title={t("bots.title")} intro={t("bots.intro")}>
        <a className="button button-primary" href={newBotHref()} data-testid="bots-create">
          {t("bots.create")}
        </a>
      </PageHeader>
      {error ? (
        <p className="error-text" role="alert" data-testid="bots-error">
          {error}
        </p>
      ) : null}
      {bots === null && !error ? <p role="status">{t("common.loading")}</p> : null}
      {bots !== null && bots.length === 0 ? (
        <p className="empty" data-testid="bots-empty">
          {t("bots.empty")}
        </p>
      ) : null}
      {bots !== null && bots.length > 0 ? (
        <div className="table-scroll">
          <table className="table responsive-table" data-testid="bots-table">
            <caption className="visually-hidden">{t("bots.title")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("bots.col.name")}</th>
                <th scope="col">{col.status}</th>
                <th scope="col">{col.pairs}</th>
                <th scope="col">{col.mode}</th>
                <th scope="col" className="num">{col.pnl}</th>
                <th scope="col" className="num">{col.margin}</th>
                <th scope="col">{col.recovery}</th>
              </tr>
            </thead>
            <tbody>
              {bots.map((bot) => {
                const pnl = pnlDisplay(totalPnl(bot), locale);
                return (
                  <tr key={bot.id} data-testid="bot-row" data-bot-name={bot.name} data-status={bot.status} data-mode={bot.mode}>
                    <th scope="row">
                      <a href={botHref(bot.name)} data-testid="bot-link">
                        {bot.name}
                      </a>
                      <span className="bot-sub">
                        {bot.strategy.toUpperCase()} · {bot.connection}
                      </span>
                    </th>
                    <td data-label={col.status}>
                      <BotStatusBadge status={bot.status} />
                    </td>
                    <td data-label={col.pairs}>{bot.pairs.join(", ")}</td>
                    <td data-label={col.mode}>
                      <ModeBadge mode={bot.mode} />
                    </td>
                    <td className={`num pnl-${pnl.tone}`} data-label={col.pnl} data-testid="bot-pnl">
                      {pnl.text}
                    </td>
                    <td className="num" data-label={col.margin} data-testid="bot-margin">
                      {t("bots.margin.of", {
                        used: amountDisplay(bot.margin_used, locale),
                        max: amountDisplay(bot.max_commit, locale),
                      })}
                    </td>
                    <td data-label={col.recovery}>
                      {bot.recovery ? <RecoveryBadge bot={bot} /> : t("bots.recovery.off")}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
