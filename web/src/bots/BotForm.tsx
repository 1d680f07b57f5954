// Create a bot on an Online connection: strategy, pairs, paper or live (paper first; live shows the most
// it may commit and asks to confirm), a risk preset in plain words, margin limit, Recovery Mode, and
// every `--set` setting in an advanced section.
import { useEffect, useId, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { Connection } from "../api/types";
import { backtestsApi, type Presets } from "../backtests/api";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { SelectField, TextField } from "../components/Field";
import { useI18n } from "../i18n/I18nContext";
import { PageHeader } from "../layout/PageHeader";
import { errorText } from "../lib/errors";
import { botsApi, type BotCreate, type BotMode } from "./api";
import { ESSENTIAL_KEYS, SETTING_KEYS, botHref, commitFromMessage, parsePairs, quoteOf, settingsToSend } from "./model";
import { RiskExplained } from "./RiskExplained";

function Radios<V extends string>(props: {
  legend: string;
  value: V;
  options: { value: V; label: string; hint: string }[];
  onValue: (value: V) => void;
  testId: string;
}) {
  const name = useId();
  return (
    <fieldset className="field bot-radios" data-testid={props.testId} data-value={props.value}>
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <label key={option.value} className="bot-radio" data-testid={`${props.testId}-${option.value}`}>
          <input type="radio" name={name} value={option.value} checked={props.value === option.value} onChange={() => props.onValue(option.value)} />
          <span>
            <strong>{option.label}</strong>
            <span className="field-hint">{option.hint}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}

export function BotForm({ connection: preselected }: { connection: string | null }) {
  const { t } = useI18n();
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [presets, setPresets] = useState<Presets | null>(null);
  const [name, setName] = useState("");
  const [connection, setConnection] = useState(preselected ?? "");
  const [strategy, setStrategy] = useState("dca");
  const [pairs, setPairs] = useState("BTC/USDT");
  const [mode, setMode] = useState<BotMode>("paper");
  const [risk, setRisk] = useState("balanced");
  const [marginLimit, setMarginLimit] = useState("");
  const [recovery, setRecovery] = useState(true);
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [confirmLive, setConfirmLive] = useState<{ body: BotCreate; commit: string | null; message: string } | null>(null);

  useEffect(() => {
    api
      .connections()
      .then((found) => {
        setConnections(found);
        if (!preselected) {
          const online = found.find((c) => c.status === "online");
          if (online) setConnection(online.name);
        }
      })
      .catch((caught: unknown) => setError(errorText(caught, t)));
    backtestsApi
      .presets()
      .then((loaded) => {
        setPresets(loaded);
        setValues((current) => ({ ...examples(loaded, "dca"), ...current }));
      })
      .catch((caught: unknown) => setError(errorText(caught, t)));
  }, []); // once: a language change must not refetch

  const chosen = connections?.find((c) => c.name === connection) ?? null;
  const online = connections?.filter((c) => c.status === "online") ?? [];
  const notOnline = chosen !== null && chosen.status !== "online";

  const changeStrategy = (next: string) => {
    setStrategy(next);
    setValues(presets ? examples(presets, next) : {});
  };

  const body = (confirm: boolean): BotCreate | null => {
    const problems: Record<string, string> = {};
    const pairList = parsePairs(pairs);
    if (!name.trim()) problems.name = t("bots.form.error.name");
    if (!connection) problems.connection = t("bots.form.error.connection");
    if (pairList.length === 0) problems.pairs = t("bots.form.error.pairs");
    if (marginLimit.trim() && !/^\d+(\.\d+)?$/.test(marginLimit.trim())) problems.margin_limit = t("bots.form.error.margin");
    setFieldErrors(problems);
    if (Object.keys(problems).length > 0) return null;
    return {
      name: name.trim(),
      connection,
      strategy,
      pairs: pairList,
      mode,
      ...(strategy === "dca" && risk ? { risk } : {}),
      ...(marginLimit.trim() ? { margin_limit: marginLimit.trim() } : {}),
      ...(strategy === "dca" ? { recovery } : {}),
      settings: settingsToSend(values, strategy),
      ...(confirm ? { confirm: true } : {}),
    };
  };

  const send = async (request: BotCreate) => {
    setBusy(true);
    setError(null);
    try {
      const made = await botsApi.create(request);
      window.location.hash = botHref(made.name);
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === "confirmation_required") {
        setConfirmLive({ body: { ...request, confirm: true }, commit: commitFromMessage(caught.message), message: caught.message });
      } else {
        if (caught instanceof ApiError && caught.field) setFieldErrors({ [fieldKey(caught.field)]: caught.message });
        setError(errorText(caught, t));
      }
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const request = body(false);
    if (request) void send(request);
  };

  const keys = SETTING_KEYS[strategy] ?? [];
  const essentials = ESSENTIAL_KEYS[strategy] ?? [];
  const preset = presets?.risk.find((p) => p.name === risk);
  const quote = quoteOf(parsePairs(pairs)[0] ?? "") ?? "";
  const placeholder = (key: string) => (strategy === "dca" && preset ? preset.values[key] : undefined) ?? "";

  return (
    <>
      <PageHeader title={t("bots.form.title")} intro={t("bots.form.intro")}>
        <a className="button" href="#/bots" data-testid="bot-form-back">
          {t("bots.back")}
        </a>
      </PageHeader>
      <form className="card bot-form" onSubmit={submit} noValidate data-testid="bot-form">
        {connections !== null && online.length === 0 ? (
          <p className="bot-notice" data-testid="bot-form-no-online">
            {t("bots.form.noOnline")}
          </p>
        ) : null}
        <TextField label={t("bots.form.name")} hint={t("bots.form.name.hint")} value={name} onValue={setName} error={fieldErrors.name} maxLength={64} testId="bot-name" />
        <SelectField
          label={t("bots.form.connection")}
          hint={notOnline ? t("bots.form.connection.notOnline", { status: chosen?.status ?? "" }) : t("bots.form.connection.hint")}
          error={fieldErrors.connection}
          value={connection}
          onValue={setConnection}
          options={[
            ...(connection && !online.some((c) => c.name === connection) ? [{ value: connection, label: connection }] : []),
            ...(connection ? [] : [{ value: "", label: t("bots.form.connection.choose") }]),
            ...online.map((c) => ({ value: c.name, label: c.testnet ? t("bots.form.connection.testnet", { name: c.name }) : c.name })),
          ]}
          testId="bot-connection"
        />
        <Radios
          legend={t("bots.form.strategy")}
          value={strategy as "dca" | "grid"}
          onValue={changeStrategy}
          options={[
            { value: "dca", label: t("bots.strategy.dca"), hint: t("bots.strategy.dca.hint") },
            { value: "grid", label: t("bots.strategy.grid"), hint: t("bots.strategy.grid.hint") },
          ]}
          testId="bot-strategy"
        />
        <TextField label={t("bots.form.pairs")} hint={t("bots.form.pairs.hint")} value={pairs} onValue={setPairs} error={fieldErrors.pairs} testId="bot-pairs" />
        <Radios
          legend={t("bots.form.mode")}
          value={mode}
          onValue={setMode}
          options={[
            { value: "paper", label: t("bots.mode.paper"), hint: t("bots.mode.paper.hint") },
            { value: "live", label: t("bots.mode.live"), hint: t("bots.mode.live.hint") },
          ]}
          testId="bot-mode-choice"
        />
        {mode === "live" ? (
          <p className="bot-notice bot-notice-warn" role="note" data-testid="bot-live-note">
            {chosen?.testnet ? t("bots.form.live.testnet") : t("bots.form.live.note")}
          </p>
        ) : null}
        {strategy === "dca" ? (
          <>
            <SelectField
              label={t("bots.form.risk")}
              hint={t("bots.form.risk.hint")}
              value={risk}
              onValue={setRisk}
              options={[
                { value: "conservative", label: t("bots.risk.conservative") },
                { value: "balanced", label: t("bots.risk.balanced") },
                { value: "aggressive", label: t("bots.risk.aggressive") },
                { value: "", label: t("bots.risk.none") },
              ]}
              testId="bot-risk"
            />
            <RiskExplained risk={risk} preset={preset ?? null} />
          </>
        ) : null}
        <TextField
          label={t("bots.form.margin", { quote: quote || "—" })}
          hint={t("bots.form.margin.hint")}
          value={marginLimit}
          onValue={setMarginLimit}
          error={fieldErrors.margin_limit}
          inputMode="decimal"
          testId="bot-margin-limit"
        />
        {strategy === "dca" ? (
          <div className="field">
            <label className="bot-check">
              <input type="checkbox" checked={recovery} onChange={(e) => setRecovery(e.target.checked)} data-testid="bot-recovery-toggle" />
              <span>{t("bots.form.recovery")}</span>
            </label>
            <p className="field-hint">{t("bots.recovery.hint")}</p>
          </div>
        ) : null}
        <fieldset className="field bot-settings">
          <legend>{t("bots.form.amounts", { quote: quote || "—" })}</legend>
          {strategy === "grid" ? <p className="field-hint">{t("bots.form.grid.range")}</p> : null}
          {essentials.map((key) => (
            <TextField key={key} label={key} value={values[key] ?? ""} onValue={(v) => setValues({ ...values, [key]: v })} error={fieldErrors[key]} testId={`bot-set-${key}`} />
          ))}
        </fieldset>
        <details className="bot-advanced" data-testid="bot-advanced">
          <summary>{t("bots.form.advanced")}</summary>
          <p className="field-hint">{t("bots.form.advanced.hint")}</p>
          {keys
            .filter((key) => !essentials.includes(key))
            .map((key) => (
              <TextField
                key={key}
                label={key}
                value={values[key] ?? ""}
                placeholder={placeholder(key)}
                onValue={(v) => setValues({ ...values, [key]: v })}
                testId={`bot-set-${key}`}
              />
            ))}
        </details>
        {error ? (
          <p className="error-text" role="alert" data-testid="bot-form-error">
            {error}
          </p>
        ) : null}
        <div className="button-row">
          <button type="submit" className="button button-primary" disabled={busy} aria-busy={busy || undefined} data-testid="bot-submit">
            {mode === "live" ? t("bots.form.submit.live") : t("bots.form.submit.paper")}
          </button>
        </div>
      </form>
      {confirmLive ? (
        <ConfirmDialog
          title={t("bots.live.confirm.title")}
          body={
            confirmLive.commit
              ? t("bots.live.confirm.body", { connection: confirmLive.body.connection, amount: confirmLive.commit, quote: quote || "" })
              : confirmLive.message
          }
          confirmLabel={t("bots.live.confirm.ok")}
          busy={busy}
          error={error}
          onCancel={() => setConfirmLive(null)}
          onConfirm={() => void send(confirmLive.body)}
        />
      ) : null}
    </>
  );
}

function examples(presets: Presets, strategy: string): Record<string, string> {
  const example = presets.strategies[strategy] ?? {};
  const essentials = ESSENTIAL_KEYS[strategy] ?? [];
  // DCA: only the amounts are filled in, the rest is left to the risk preset unless the user overrides it.
  // Grid: the example's levels and amounts, never its price range (it must be chosen around the pair's price).
  return Object.fromEntries(
    Object.entries(example).filter(([key]) =>
      strategy === "dca" ? essentials.includes(key) : key !== "lower" && key !== "upper",
    ),
  );
}

function fieldKey(field: string): string {
  return field.replace(/^--set$/, "settings").replace(/^pair$/, "pairs");
}
