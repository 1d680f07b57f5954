// One bot: its figures, the price chart with its fills and lines, start/stop, orders, fills and history.
// Polled every few seconds (the live stream does not carry bot figures).
import { lazy, Suspense, useMemo, useRef, useState } from "react";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Dialog } from "../components/Dialog";
import { useI18n } from "../i18n/I18nContext";
import { PageHeader } from "../layout/PageHeader";
import { errorText } from "../lib/errors";
import { botsApi, type BotDetail, type BotFill, type BotOrder, type Candles, type MarkerKind } from "./api";
import { BotStatusBadge, ModeBadge, RecoveryBadge } from "./Badges";
import { amountDisplay, pnlDisplay, priceDisplay } from "./format";
import type { MessageKey } from "../i18n/catalogue";
import { barsOf, buildMarkers, canStart, eventKey, heldPositions, orderStatusKey, priceLines, quoteOf, totalPnl, type PriceLine } from "./model";
import { RecordTable } from "./RecordTable";
import { usePoll } from "./usePoll";

type Dialogs = "stop" | "start-live" | "remove" | "close" | null;

// The chart library is loaded with the first bot page only (it is most of this section's weight).
const PriceChart = lazy(() => import("./PriceChart").then((m) => ({ default: m.PriceChart })));

export function BotView({ name }: { name: string }) {
  const { t, locale, dateTime } = useI18n();
  const [bot, setBot] = useState<BotDetail | null>(null);
  const [orders, setOrders] = useState<BotOrder[]>([]);
  const [fills, setFills] = useState<BotFill[]>([]);
  const [candles, setCandles] = useState<Candles | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chartError, setChartError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialogs>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const stopButton = useRef<HTMLButtonElement>(null);

  const refresh = usePoll(
    async (signal) => {
      try {
        const [detail, found, filled] = await Promise.all([botsApi.show(name), botsApi.orders(name), botsApi.fills(name)]);
        if (signal.aborted) return;
        setBot(detail);
        setOrders(found);
        setFills(filled);
        setError(null);
      } catch (caught) {
        if (signal.aborted) return;
        if (caught instanceof Error && "status" in caught && (caught as { status: number }).status === 404) setNotFound(true);
        setError(errorText(caught, t));
        return;
      }
      try {
        const got = await botsApi.candles(name);
        if (!signal.aborted) {
          setCandles(got);
          setChartError(null);
        }
      } catch (caught) {
        if (!signal.aborted) setChartError(errorText(caught, t));
      }
    },
    undefined,
    name,
  );

  const labels = useMemo<Record<MarkerKind, string>>(
    () => ({ entry: t("bots.marker.entry"), addon: t("bots.marker.addon"), exit: t("bots.marker.exit") }),
    [t],
  );
  const lineLabels = useMemo<Record<PriceLine["kind"], string>>(
    () => ({ average: t("bots.line.average"), high: t("bots.line.high"), low: t("bots.line.low") }),
    [t],
  );
  const pair = candles?.pair ?? bot?.pairs[0] ?? "";
  const bars = useMemo(() => barsOf(candles?.candles ?? []), [candles]);
  const markers = useMemo(() => buildMarkers(fills, bars, candles?.timeframe ?? "1m", pair, labels), [fills, bars, candles, pair, labels]);
  const state = bot?.pair_states[pair];
  const lines = useMemo(() => priceLines(state), [state?.average_price, state?.triggers?.high, state?.triggers?.low]);

  const label = (key: string | null, fallback: string) => (key ? t(key as MessageKey) : fallback);
  const sideText = (side: string) => (side === "buy" ? t("bots.side.buy") : t("bots.side.sell"));

  const act = async (action: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setActionError(null);
    try {
      await action();
      setDialog(null);
      after?.();
      refresh();
    } catch (caught) {
      setActionError(errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };

  if (notFound) {
    return (
      <>
        <PageHeader title={name} />
        <p className="error-text" role="alert" data-testid="bot-not-found">
          {t("bots.notFound", { name })}
        </p>
        <a className="button" href="#/bots">
          {t("bots.back")}
        </a>
      </>
    );
  }
  if (!bot) {
    return (
      <>
        <PageHeader title={name} />
        {error ? (
          <p className="error-text" role="alert">
            {error}
          </p>
        ) : (
          <p role="status">{t("common.loading")}</p>
        )}
      </>
    );
  }

  const quote = quoteOf(pair) ?? "";
  const pnl = pnlDisplay(totalPnl(bot), locale);
  const realized = pnlDisplay(bot.realized_pnl, locale);
  const unrealized = pnlDisplay(bot.unrealized_pnl, locale);
  const running = !canStart(bot);
  const held = heldPositions(bot.pair_states, fills);

  return (
    <>
      <PageHeader title={bot.name} intro={t("bots.view.intro", { strategy: bot.strategy.toUpperCase(), connection: bot.connection, pairs: bot.pairs.join(", ") })}>
        <a className="button" href="#/bots" data-testid="bot-back">
          {t("bots.back")}
        </a>
      </PageHeader>
      <section className="card bot-card" aria-label={t("bots.view.figures")} data-testid="bot-view" data-status={bot.status} data-mode={bot.mode}>
        <header className="card-header">
          <ModeBadge mode={bot.mode} />
          <BotStatusBadge status={bot.status} />
          <RecoveryBadge bot={bot} />
        </header>
        {bot.status_reason ? <p data-testid="bot-status-reason">{bot.status_reason}</p> : null}
        <dl className="facts">
          <div>
            <dt>{t("bots.col.pnl")}</dt>
            <dd className={`pnl-${pnl.tone}`} data-testid="bot-view-pnl">
              {pnl.text} {quote}
            </dd>
          </div>
          <div>
            <dt>{t("bots.view.realized")}</dt>
            <dd className={`pnl-${realized.tone}`}>{realized.text}</dd>
          </div>
          <div>
            <dt>{t("bots.view.unrealized")}</dt>
            <dd className={`pnl-${unrealized.tone}`}>{unrealized.text}</dd>
          </div>
          <div>
            <dt>{t("bots.view.fees")}</dt>
            <dd>{amountDisplay(bot.fees, locale, 4)}</dd>
          </div>
          <div>
            <dt>{t("bots.col.margin")}</dt>
            <dd data-testid="bot-view-margin">
              {t("bots.margin.of", { used: amountDisplay(bot.margin_used, locale), max: amountDisplay(bot.max_commit, locale) })}
            </dd>
          </div>
          <div>
            <dt>{t("bots.view.marginMax")}</dt>
            <dd>{amountDisplay(bot.margin_used_max, locale)}</dd>
          </div>
          <div>
            <dt>{t("bots.view.addons")}</dt>
            <dd data-testid="bot-view-addons">{bot.addons_used}</dd>
          </div>
          <div>
            <dt>{t("bots.view.groups")}</dt>
            <dd>{bot.groups}</dd>
          </div>
          <div>
            <dt>{t("bots.view.average")}</dt>
            <dd data-testid="bot-view-average">{priceDisplay(state?.average_price, locale)}</dd>
          </div>
          <div>
            <dt>{t("bots.view.risk")}</dt>
            <dd>{bot.risk ? t(`bots.risk.${bot.risk}` as "bots.risk.balanced") : t("bots.risk.none")}</dd>
          </div>
        </dl>
        {notice ? (
          <p role="status" data-testid="bot-notice">
            {notice}
          </p>
        ) : null}
        {actionError && dialog === null ? (
          <p className="error-text" role="alert" data-testid="bot-action-error">
            {actionError}
          </p>
        ) : null}
        <div className="button-row card-actions">
          {running ? (
            <button ref={stopButton} type="button" className="button" onClick={() => setDialog("stop")} data-testid="bot-stop">
              {t("bots.stop")}
            </button>
          ) : (
            <button
              type="button"
              className="button button-primary"
              disabled={busy}
              onClick={() => (bot.mode === "live" ? setDialog("start-live") : void act(() => botsApi.start(bot.name)))}
              data-testid="bot-start"
            >
              {t("bots.start")}
            </button>
          )}
          {!running && held.length > 0 ? (
            <button type="button" className="button" onClick={() => setDialog("close")} data-testid="bot-close-position">
              {t("bots.close")}
            </button>
          ) : null}
          {!running ? (
            <button type="button" className="button button-danger-quiet" onClick={() => setDialog("remove")} data-testid="bot-remove">
              {t("bots.remove")}
            </button>
          ) : null}
        </div>
      </section>

      <section className="card bot-card" aria-labelledby="bot-chart-title">
        <h2 id="bot-chart-title" className="card-title">
          {t("bots.chart.title", { pair, timeframe: candles?.timeframe ?? "1m" })}
        </h2>
        {chartError ? (
          <p className="error-text" data-testid="bot-chart-error">
            {chartError}
          </p>
        ) : null}
        <Suspense fallback={<p role="status">{t("common.loading")}</p>}>
          <PriceChart bars={bars} markers={markers} lines={lines} lineLabels={lineLabels} label={t("bots.chart.aria", { pair, markers: markers.length })} />
        </Suspense>
        <p className="bot-attribution">
          <a href="https://www.tradingview.com/" target="_blank" rel="noopener noreferrer" data-testid="bot-chart-attribution">
            {t("bots.chart.attribution")}
          </a>
        </p>
        <ul className="bot-legend" data-testid="bot-legend">
          <li>
            <span aria-hidden="true" style={{ color: "#1a7f37" }}>▲</span> {t("bots.legend.entry")}
          </li>
          <li>
            <span aria-hidden="true" style={{ color: "#9a6700" }}>●</span> {t("bots.legend.addon")}
          </li>
          <li>
            <span aria-hidden="true" style={{ color: "#cf222e" }}>▼</span> {t("bots.legend.exit")}
          </li>
          {lines.map((line) => (
            <li key={line.kind} data-testid={`bot-line-${line.kind}`}>
              <span aria-hidden="true">┄</span> {t("bots.line.value", { label: lineLabels[line.kind], price: priceDisplay(String(line.price), locale) })}
            </li>
          ))}
        </ul>
      </section>

      <section className="card bot-card" aria-labelledby="bot-fills-title">
        <h2 id="bot-fills-title" className="card-title">
          {t("bots.fills.title")}
        </h2>
        <RecordTable
          rows={[...fills].reverse()}
          columns={[
            { label: t("bots.col.time"), cell: (fill) => <time dateTime={fill.ts}>{dateTime(fill.ts)}</time> },
            { label: t("bots.col.kind"), cell: (fill) => labels[fill.kind] },
            { label: t("bots.col.pair"), cell: (fill) => fill.symbol },
            { label: t("bots.col.side"), cell: (fill) => sideText(fill.side) },
            { label: t("bots.col.price"), className: "num", cell: (fill) => priceDisplay(fill.price, locale) },
            { label: t("bots.col.amount"), className: "num", cell: (fill) => priceDisplay(fill.amount, locale) },
            {
              label: t("bots.col.fee"),
              className: "num",
              cell: (fill) => (
                <>
                  {priceDisplay(fill.fee, locale)} {fill.fee_currency ?? ""}
                </>
              ),
            },
          ]}
          rowKey={(fill, i) => `${fill.client_order_id}-${i}`}
          rowData={(fill) => ({ "data-testid": "bot-fill-row", "data-kind": fill.kind })}
          caption={t("bots.fills.title")}
          testId="bot-fills"
          empty={{ text: t("bots.fills.empty"), testId: "bot-fills-empty" }}
        />
      </section>

      <section className="card bot-card" aria-labelledby="bot-orders-title">
        <h2 id="bot-orders-title" className="card-title">
          {t("bots.orders.title")}
        </h2>
        <RecordTable
          rows={orders}
          columns={[
            { label: t("bots.col.pair"), cell: (order) => order.symbol },
            { label: t("bots.col.kind"), cell: (order) => labels[order.kind] },
            { label: t("bots.col.side"), cell: (order) => sideText(order.side) },
            { label: t("bots.col.type"), cell: (order) => (order.type === "market" ? t("bots.type.market") : t("bots.type.limit")) },
            { label: t("bots.col.amount"), className: "num", cell: (order) => priceDisplay(order.amount, locale) },
            { label: t("bots.col.filled"), className: "num", cell: (order) => priceDisplay(order.filled, locale) },
            { label: t("bots.col.average"), className: "num", cell: (order) => priceDisplay(order.average, locale) },
            { label: t("bots.col.status"), cell: (order) => label(orderStatusKey(order.status), order.status) },
          ]}
          rowKey={(order) => order.id}
          rowData={(order) => ({ "data-testid": "bot-order-row", "data-status": order.status, "data-kind": order.kind })}
          caption={t("bots.orders.title")}
          testId="bot-orders"
          empty={{ text: t("bots.orders.empty"), testId: "bot-orders-empty" }}
        />
      </section>

      <section className="card bot-card" aria-labelledby="bot-history-title">
        <h2 id="bot-history-title" className="card-title">
          {t("bots.history.title")}
        </h2>
        <ol className="bot-history" data-testid="bot-history">
          {bot.history.map((entry, i) => (
            <li key={`${entry.ts}-${i}`} data-kind={entry.kind}>
              <time dateTime={entry.ts}>{dateTime(entry.ts)}</time> <strong>{label(eventKey(entry.kind), entry.kind)}</strong>
              {entry.pair ? ` · ${entry.pair}` : ""} — {entry.reason}
            </li>
          ))}
        </ol>
      </section>

      {dialog === "stop" ? (
        <Dialog title={t("bots.stop.title", { name: bot.name })} onClose={() => setDialog(null)} testId="bot-stop-dialog" alert>
          <p>{t("bots.stop.body")}</p>
          {actionError ? (
            <p className="error-text" role="alert" data-testid="bot-stop-error">
              {actionError}
            </p>
          ) : null}
          <div className="button-row">
            <button type="button" className="button" onClick={() => setDialog(null)} data-testid="bot-stop-back">
              {t("common.cancel")}
            </button>
            <button type="button" className="button" disabled={busy} onClick={() => void act(() => botsApi.stop(bot.name, false))} data-testid="bot-stop-leave">
              {t("bots.stop.leave")}
            </button>
            <button type="button" className="button button-danger" disabled={busy} onClick={() => void act(() => botsApi.stop(bot.name, true))} data-testid="bot-stop-cancel">
              {t("bots.stop.cancel")}
            </button>
          </div>
        </Dialog>
      ) : null}
      {dialog === "start-live" ? (
        <ConfirmDialog
          title={t("bots.live.start.title", { name: bot.name })}
          body={t("bots.live.confirm.body", { connection: bot.connection, amount: amountDisplay(bot.max_commit, locale), quote })}
          confirmLabel={t("bots.live.start.ok")}
          busy={busy}
          error={actionError}
          onCancel={() => setDialog(null)}
          onConfirm={() => void act(() => botsApi.start(bot.name, true))}
        />
      ) : null}
      {dialog === "close" ? (
        <ConfirmDialog
          title={t("bots.close.title", { name: bot.name })}
          body={held.map((h) => t("bots.close.body", { position: priceDisplay(h.position, locale), pair: h.pair })).join(" ")}
          confirmLabel={t("bots.close")}
          busy={busy}
          error={actionError}
          onCancel={() => setDialog(null)}
          onConfirm={() =>
            void act(async () => {
              const done = await botsApi.closePosition(bot.name);
              setNotice(t("bots.close.done", { count: done.orders.length }));
            })
          }
        />
      ) : null}
      {dialog === "remove" ? (
        <ConfirmDialog
          title={t("bots.remove.title", { name: bot.name })}
          body={t("bots.remove.body")}
          confirmLabel={t("bots.remove")}
          busy={busy}
          error={actionError}
          onCancel={() => setDialog(null)}
          onConfirm={() => void act(() => botsApi.remove(bot.name), () => (window.location.hash = "#/bots"))}
        />
      ) : null}
    </>
  );
}
