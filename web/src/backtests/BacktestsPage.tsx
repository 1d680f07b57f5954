// Backtests: a form (strategy, the bots' risk presets, settings, candle file; one run or a sweep),
// the job's progress, then its results: figures and equity curve, or the ranked sweep and its heatmap.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { SelectField, TextField } from "../components/Field";
import { useI18n } from "../i18n/I18nContext";
import type { MessageKey } from "../i18n/catalogue";
import { PageHeader } from "../layout/PageHeader";
import { errorText } from "../lib/errors";
import { backtestsApi, type Job, type Objective, type Presets, type RunResult, type SweepResult } from "./api";
import { parseGrid, parseSettings, settingsText } from "./model";
import { RunResults, SweepResults } from "./Results";

const POLL_MS = 400;
const DEFAULT_GRID = "take_profit_pct=0.5,1,1.5\naddon_deviation_pct=1,2";

type Mode = "single" | "sweep";
type AnyJob = Job<RunResult> | Job<SweepResult>;

function TextArea(props: { label: string; hint: string; value: string; onValue: (v: string) => void; testId: string; rows: number }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <p id={`${id}-hint`} className="field-hint">
        {props.hint}
      </p>
      <textarea
        id={id}
        aria-describedby={`${id}-hint`}
        value={props.value}
        rows={props.rows}
        spellCheck={false}
        onChange={(e) => props.onValue(e.target.value)}
        data-testid={props.testId}
        style={{ width: "100%", boxSizing: "border-box", fontFamily: "monospace" }}
      />
    </div>
  );
}

export function BacktestsPage() {
  const { t } = useI18n();
  const [presets, setPresets] = useState<Presets | null>(null);
  const [mode, setMode] = useState<Mode>("single");
  const [strategy, setStrategy] = useState("dca");
  const [risk, setRisk] = useState("");
  const [settings, setSettings] = useState("");
  const [fills, setFills] = useState("ours");
  const [timeframe, setTimeframe] = useState("");
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const [source, setSource] = useState("upload"); // "upload" or the index of a stored series
  const [grid, setGrid] = useState(DEFAULT_GRID);
  const [objective, setObjective] = useState<Objective>("sharpe");
  const [formError, setFormError] = useState<string | null>(null);
  const [job, setJob] = useState<AnyJob | null>(null);
  const poll = useRef<number | null>(null);

  useEffect(() => {
    backtestsApi
      .presets()
      .then((loaded) => {
        setPresets(loaded);
        setSettings(settingsText(loaded.strategies["dca"] ?? {}));
      })
      .catch((caught: unknown) => setFormError(errorText(caught, t)));
    return () => {
      if (poll.current !== null) window.clearTimeout(poll.current);
    };
  }, []); // deliberately once: a language change must not refetch

  const follow = (started: AnyJob) => {
    setJob(started);
    const next = async () => {
      try {
        const current = started.kind === "sweep" ? await backtestsApi.sweep(started.id) : await backtestsApi.backtest(started.id);
        setJob(current);
        if (current.status === "queued" || current.status === "running") poll.current = window.setTimeout(next, POLL_MS);
      } catch (caught) {
        setFormError(errorText(caught, t));
      }
    };
    if (started.status === "queued" || started.status === "running") poll.current = window.setTimeout(next, POLL_MS);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(null);
    const stored = source === "upload" ? undefined : presets?.stored[Number(source)];
    if (!stored && !file) return setFormError(t("backtests.error.noFile"));
    const parsed = parseSettings(settings);
    if (!parsed.ok) return setFormError(t("backtests.error.line", { line: parsed.line }));
    const uploaded = file ? { csv: file.text, ...(timeframe.trim() ? { timeframe: timeframe.trim() } : {}) } : { csv: "" };
    const body = {
      strategy,
      settings: parsed.value,
      data: stored ? { exchange: stored.exchange, pair: stored.pair, timeframe: stored.timeframe } : uploaded,
      fills,
      ...(risk ? { risk } : {}),
    };
    if (poll.current !== null) window.clearTimeout(poll.current);
    try {
      if (mode === "sweep") {
        const axes = parseGrid(grid);
        if (!axes.ok) return setFormError(t("backtests.error.line", { line: axes.line }));
        if (axes.value.length === 0) return setFormError(t("backtests.error.noGrid"));
        follow(await backtestsApi.startSweep({ ...body, grid: axes.value, objective }));
      } else {
        follow(await backtestsApi.startBacktest(body));
      }
    } catch (caught) {
      setJob(null);
      setFormError(errorText(caught, t));
    }
  };

  const running = job !== null && (job.status === "queued" || job.status === "running");
  const preset = presets?.risk.find((p) => p.name === risk);
  const strategies = Object.keys(presets?.strategies ?? { dca: {} });

  return (
    <>
      <PageHeader title={t("backtests.title")} intro={t("backtests.intro")} />
      <form className="card" onSubmit={(e) => void submit(e)} noValidate data-testid="backtest-form">
        <SelectField
          label={t("backtests.mode")}
          value={mode}
          onValue={(v) => setMode(v as Mode)}
          options={[
            { value: "single", label: t("backtests.mode.single") },
            { value: "sweep", label: t("backtests.mode.sweep") },
          ]}
          testId="backtest-mode"
        />
        <SelectField
          label={t("backtests.strategy")}
          value={strategy}
          onValue={(v) => {
            setStrategy(v);
            setSettings(settingsText(presets?.strategies[v] ?? {}));
          }}
          options={strategies.map((s) => ({ value: s, label: s.toUpperCase() }))}
          testId="backtest-strategy"
        />
        {strategy === "dca" ? (
          <SelectField
            label={t("backtests.risk")}
            hint={t("backtests.risk.hint", { summary: preset?.summary ?? "" })}
            value={risk}
            onValue={setRisk}
            options={[
              { value: "", label: t("backtests.risk.none") },
              ...(presets?.risk ?? []).map((p) => ({ value: p.name, label: p.name })),
            ]}
            testId="backtest-risk"
          />
        ) : null}
        <TextArea
          label={t("backtests.settings")}
          hint={t("backtests.settings.hint")}
          value={settings}
          onValue={setSettings}
          rows={6}
          testId="backtest-settings"
        />
        <SelectField
          label={t("backtests.fills")}
          value={fills}
          onValue={setFills}
          options={(presets?.fills ?? ["ours"]).map((f) => ({ value: f, label: t(`backtests.fills.${f}` as MessageKey) }))}
          testId="backtest-fills"
        />
        {presets && presets.stored.length > 0 ? (
          <SelectField
            label={t("backtests.source")}
            value={source}
            onValue={setSource}
            options={[
              { value: "upload", label: t("backtests.source.upload") },
              ...presets.stored.map((series, i) => ({
                value: String(i),
                label: t("backtests.source.stored", {
                  exchange: series.exchange,
                  pair: series.pair,
                  timeframe: series.timeframe,
                  rows: series.rows,
                  first: (series.first ?? "").slice(0, 10),
                  last: (series.last ?? "").slice(0, 10),
                }),
              })),
            ]}
            testId="backtest-source"
          />
        ) : null}
        {source === "upload" ? (
        <>
        <div className="field">
          <label htmlFor="backtest-file">{t("backtests.data")}</label>
          <p id="backtest-file-hint" className="field-hint">
            {file ? t("backtests.data.chosen", { name: file.name, size: Math.ceil(file.text.length / 1024) }) : t("backtests.data.hint")}
          </p>
          <input
            id="backtest-file"
            type="file"
            accept=".csv,text/csv"
            aria-describedby="backtest-file-hint"
            data-testid="backtest-file"
            onChange={(e) => {
              const chosen = e.target.files?.[0];
              if (!chosen) return setFile(null);
              void chosen.text().then((text) => setFile({ name: chosen.name, text }));
            }}
          />
        </div>
        <TextField
          label={t("backtests.timeframe")}
          hint={t("backtests.timeframe.hint")}
          value={timeframe}
          onValue={setTimeframe}
          testId="backtest-timeframe"
          autoComplete="off"
        />
        </>
        ) : null}
        {mode === "sweep" ? (
          <>
            <TextArea label={t("backtests.grid")} hint={t("backtests.grid.hint")} value={grid} onValue={setGrid} rows={3} testId="sweep-grid" />
            <SelectField
              label={t("backtests.objective")}
              value={objective}
              onValue={(v) => setObjective(v as Objective)}
              options={(presets?.objectives ?? ["sharpe"]).map((o) => ({ value: o, label: t(`backtests.objective.${o}` as MessageKey) }))}
              testId="sweep-objective"
            />
          </>
        ) : null}
        {formError ? (
          <p className="error-text" role="alert" data-testid="backtest-error">
            {formError}
          </p>
        ) : null}
        <div className="button-row">
          <button type="submit" className="button button-primary" aria-disabled={running || undefined} disabled={running} data-testid="backtest-submit">
            {running ? t("backtests.running") : mode === "sweep" ? t("backtests.runSweep") : t("backtests.run")}
          </button>
        </div>
      </form>
      {job ? <JobView job={job} /> : null}
    </>
  );
}

function JobView({ job }: { job: AnyJob }) {
  const { t } = useI18n();
  const percent = Math.round(job.progress * 100);
  return (
    <section className="card" aria-labelledby="backtest-results-title" data-testid="backtest-job" data-status={job.status}>
      <h2 id="backtest-results-title" className="card-title">
        {t("backtests.results")}: {t(`backtests.status.${job.status}` as MessageKey)}
      </h2>
      {job.status === "queued" || job.status === "running" ? (
        <>
          <progress value={job.progress} max={1} aria-label={t("backtests.progress", { percent })} data-testid="backtest-progress" style={{ width: "100%" }} />
          <p role="status" className="field-hint">
            {t("backtests.progress", { percent })}
          </p>
        </>
      ) : null}
      {job.status === "failed" ? (
        <p className="error-text" role="alert" data-testid="backtest-failed">
          {t("backtests.failed", { message: job.error ?? "" })}
        </p>
      ) : null}
      {job.status === "done" && job.result ? (
        job.kind === "sweep" ? (
          <SweepResults job={job as Job<SweepResult>} />
        ) : (
          <RunResults job={job as Job<RunResult>} />
        )
      ) : null}
    </section>
  );
}
