// The order ticket: pair, side, type, amount (base or quote), price, reduce only (contract pairs only),
// paper or live. The market's rules and the order's value and fee are shown before sending; a live order
// needs an explicit confirmation.
// The server's guard decides: a refusal comes back with its reason and is shown in plain words.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { OrderBody, OrderSide, OrderType, TicketInfo } from "../api/types";
import { useAnnounce } from "../components/Announcer";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { TextField } from "../components/Field";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";
import { errorText, serverMessage } from "../lib/errors";
import { formatDecimal } from "../lib/decimal";
import { Choice } from "./Choice";
import { plain } from "./decimal";
import { modeLabel, sideLabel, statusLabel } from "./labels";
import { apiNumber, isContract, preview, type AmountUnit, type TicketInput } from "./preview";
import { refusalReason } from "./refusal";
import { TicketOutcome, type Outcome } from "./TicketOutcome";
import { TicketPreview } from "./TicketPreview";
import { TicketRules } from "./TicketRules";

type Mode = "paper" | "live";

export interface OrderTicketProps {
  connectionId: string;
  connectionName: string;
  exchange: string;
  testnet: boolean;
  ticket: TicketInfo | null;
  ticketError: unknown;
  ticketBusy: boolean;
  loadTicket: (pair?: string) => Promise<void>;
  onPlaced: () => void;
}

export function OrderTicket(props: OrderTicketProps) {
  const { connectionId, connectionName, exchange, testnet, ticket, ticketError, ticketBusy, loadTicket, onPlaced } = props;
  const { t, locale } = useI18n();
  const announce = useAnnounce();
  const [pair, setPair] = useState("");
  const [side, setSide] = useState<OrderSide>("buy");
  const [type, setType] = useState<OrderType>("limit");
  const [unit, setUnit] = useState<AmountUnit>("base");
  const [amount, setAmount] = useState("");
  const [price, setPrice] = useState("");
  const [reduceOnlyBox, setReduceOnly] = useState(false); // off by default; offered on contract pairs only
  const [mode, setMode] = useState<Mode>("paper"); // paper first, always: live is a deliberate choice
  const [tried, setTried] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  // The first ticket names the connection's default pair; after that the pair is what the user typed.
  useEffect(() => {
    if (ticket && pair === "") setPair(ticket.pair);
  }, [ticket]); // deliberately only on a new ticket

  const wanted = pair.trim().toUpperCase();
  const current = ticket && ticket.pair === wanted ? ticket : null;
  // Reduce only exists on contract markets ("BTC/USDT:USDT"); a spot pair never offers nor sends it.
  const contract = isContract(wanted);
  const reduceOnly = contract && reduceOnlyBox;
  useEffect(() => {
    if (!contract) setReduceOnly(false); // switching to a spot pair clears it: back on a contract it is off again
  }, [contract]);
  const reduceOnlyId = useId();
  const input: TicketInput = { side, type, amount, unit, price, reduceOnly };
  const shown = current ? preview(input, current) : null;
  const base = current?.base ?? wanted.split("/")[0] ?? "";
  const quote = current?.quote ?? (wanted.split("/")[1] ?? "").split(":")[0] ?? "";

  // The pair last asked for: leaving the field after Enter must not ask again (nor repeat a refusal).
  const asked = useRef("");
  const loadPair = () => {
    if (!wanted || wanted === ticket?.pair || wanted === asked.current) return;
    asked.current = wanted;
    void loadTicket(wanted);
  };

  const problemText = (problem: string | null | undefined) =>
    problem ? t(`trade.input.${problem}` as MessageKey) : null;
  const amountProblem = tried ? (shown?.amountProblem ?? (apiNumber(amount) ? null : "invalid")) : null;
  const priceProblem = tried && type === "limit" ? (shown?.priceProblem ?? (apiNumber(price) ? null : "invalid")) : null;

  const body = (): OrderBody | null => {
    const value = apiNumber(amount);
    const limit = type === "limit" ? apiNumber(price) : null;
    if (!wanted || !value || (type === "limit" && !limit)) return null;
    return {
      pair: wanted,
      side,
      amount: value,
      type,
      ...(limit ? { price: limit } : {}),
      ...(reduceOnly ? { reduce_only: true } : {}),
      paper: mode === "paper",
      quote: unit === "quote",
    };
  };

  const send = async (order: OrderBody) => {
    setBusy(true);
    try {
      const placed = await api.placeOrder(connectionId, order);
      setOutcome({ kind: "placed", order: placed });
      announce(t("trade.placed", {
        mode: modeLabel(t, placed.mode, testnet),
        side: sideLabel(t, placed.side),
        amount: formatDecimal(plain(placed.amount), locale, 12),
        pair: placed.symbol,
        status: statusLabel(t, placed.status),
      }));
      onPlaced();
    } catch (error) {
      const reason = refusalReason(error);
      if (reason) {
        setOutcome({ kind: "refused", reason, message: serverMessage(error, t), pair: order.pair });
      } else {
        const invalid = error instanceof ApiError && error.status === 422;
        setOutcome({ kind: "error", text: invalid ? serverMessage(error, t) : errorText(error, t) });
      }
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    const order = body();
    if (!order || busy) return;
    setOutcome(null);
    if (order.paper) void send(order);
    else setConfirming(true);
  };

  const pairError =
    ticketError && !current && !ticketBusy
      ? ticketError instanceof ApiError && ticketError.field === "pair"
        ? t("trade.pair.unknown", { pair: wanted, exchange })
        : errorText(ticketError, t)
      : null;
  const order = confirming ? body() : null;
  const how = type === "limit" ? t("trade.how.limit", { price: formatDecimal(apiNumber(price) ?? price, locale, 12), quote }) : t("trade.how.market");
  const liveLabel = testnet ? "trade.mode.testnet" : "trade.mode.live";

  return (
    <form className="order-ticket" onSubmit={submit} noValidate data-testid="trade-ticket" aria-busy={busy || undefined}>
      <div className="trade-columns">
        <div>
          <TextField
            label={t("trade.pair")}
            hint={t("trade.pair.hint")}
            error={pairError}
            value={pair}
            onValue={setPair}
            onBlur={loadPair}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault(); // Enter in the pair loads it; it never sends an order
                loadPair();
              }
            }}
            autoComplete="off"
            spellCheck={false}
            testId="trade-pair"
          />
          <Choice legend={t("trade.side")} value={side} onValue={setSide} testId="trade-side"
            options={[{ value: "buy", label: t("trade.side.buy") }, { value: "sell", label: t("trade.side.sell") }]} />
          <Choice legend={t("trade.type")} value={type} onValue={setType} testId="trade-type"
            options={[{ value: "limit", label: t("trade.type.limit") }, { value: "market", label: t("trade.type.market") }]} />
          <Choice legend={t("trade.unit")} value={unit} onValue={setUnit} testId="trade-unit"
            options={[{ value: "base", label: base || t("trade.unit.base") }, { value: "quote", label: quote || t("trade.unit.quote") }]} />
          <TextField
            label={t(unit === "quote" ? "trade.amount.quote" : "trade.amount.base", { base, quote })}
            hint={unit === "quote" ? t("trade.amount.quoteHint", { base, quote }) : undefined}
            error={problemText(amountProblem)}
            value={amount}
            onValue={setAmount}
            inputMode="decimal"
            autoComplete="off"
            testId="trade-amount"
          />
          {type === "limit" ? (
            <>
              <TextField
                label={t("trade.price", { quote })}
                error={problemText(priceProblem)}
                value={price}
                onValue={setPrice}
                inputMode="decimal"
                autoComplete="off"
                testId="trade-price"
              />
              {current ? (
                <div className="price-row">
                  {current.bid ? (
                    <button type="button" className="button button-small" onClick={() => setPrice(plain(current.bid ?? ""))} data-testid="trade-use-bid">
                      {t("trade.useBid", { price: formatDecimal(plain(current.bid), locale, 12) })}
                    </button>
                  ) : null}
                  {current.ask ? (
                    <button type="button" className="button button-small" onClick={() => setPrice(plain(current.ask ?? ""))} data-testid="trade-use-ask">
                      {t("trade.useAsk", { price: formatDecimal(plain(current.ask), locale, 12) })}
                    </button>
                  ) : null}
                </div>
              ) : null}
            </>
          ) : null}
          {contract ? (
            <div className="checkbox-field">
              <input
                id={reduceOnlyId}
                type="checkbox"
                checked={reduceOnlyBox}
                onChange={(e) => setReduceOnly(e.currentTarget.checked)}
                aria-describedby={`${reduceOnlyId}-hint`}
                data-testid="trade-reduce-only"
              />
              <label htmlFor={reduceOnlyId}>{t("trade.reduceOnly")}</label>
              <p id={`${reduceOnlyId}-hint`} className="field-hint">
                {t("trade.reduceOnly.hint")}
              </p>
            </div>
          ) : null}
        </div>
        <div>
          {current ? (
            <TicketRules ticket={current} exchange={exchange} busy={ticketBusy} onRefresh={() => void loadTicket(current.pair)} />
          ) : ticketBusy ? (
            <p role="status">{t("trade.loadingTicket")}</p>
          ) : null}
          {current && shown ? <TicketPreview preview={shown} input={input} ticket={current} /> : null}
        </div>
      </div>
      <Choice legend={t("trade.mode")} value={mode} onValue={setMode} testId="trade-mode" stacked
        options={[
          { value: "paper", label: t("trade.mode.paper"), hint: t("trade.mode.paperHint") },
          { value: "live", label: t(liveLabel), hint: t(testnet ? "trade.mode.testnetHint" : "trade.mode.liveHint") },
        ]} />
      <div className="button-row">
        <button type="submit" className={mode === "paper" ? "button button-primary" : "button button-danger"} aria-disabled={busy || undefined} aria-busy={busy || undefined} data-testid="trade-submit">
          {busy ? <span className="spinner" aria-hidden="true" /> : null}
          {t(mode === "paper" ? "trade.submit.paper" : testnet ? "trade.submit.testnet" : "trade.submit.live")}
        </button>
      </div>
      {outcome ? <TicketOutcome outcome={outcome} exchange={exchange} testnet={testnet} ticket={current} /> : null}
      {confirming && order ? (
        <ConfirmDialog
          title={t(testnet ? "trade.confirm.titleTestnet" : "trade.confirm.title")}
          body={[
            t(testnet ? "trade.confirm.bodyTestnet" : "trade.confirm.body", {
              side: sideLabel(t, order.side),
              amount: `${formatDecimal(order.amount, locale, 12)} ${order.quote ? quote : base}`,
              pair: order.pair,
              how,
              connection: connectionName,
            }),
            ...(order.reduce_only ? [t("trade.confirm.reduceOnly")] : []),
          ].join(" ")}
          confirmLabel={t(testnet ? "trade.confirm.okTestnet" : "trade.confirm.ok")}
          busy={busy}
          onConfirm={() => void send(order)}
          onCancel={() => setConfirming(false)}
        />
      ) : null}
    </form>
  );
}
