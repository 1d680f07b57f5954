// What a finished job shows: one run's figures and equity curve, or a sweep's ranking and heatmap.
import { useState } from "react";
import { SelectField } from "../components/Field";
import { useI18n } from "../i18n/I18nContext";
import type { MessageKey } from "../i18n/catalogue";
import { backtestsApi, type Job, type RunResult, type SweepResult } from "./api";
import { EquityChart } from "./EquityChart";
import { HeatmapChart } from "./HeatmapChart";
import { gridKeys, metricOf } from "./model";

const SHOWN_ROWS = 50;

function useNumber() {
  const { locale } = useI18n();
  return (value: number | null, digits = 2) =>
    value === null || !Number.isFinite(value) ? "–" : value.toLocaleString(locale, { maximumFractionDigits: digits });
}

export function RunResults({ job }: { job: Job<RunResult> }) {
  const { t } = useI18n();
  const num = useNumber();
  const r = job.result!;
  const rows: [MessageKey, string, string][] = [
    ["backtests.figure.period", `${r.from.slice(0, 16).replace("T", " ")} – ${r.to.slice(0, 16).replace("T", " ")}`, "period"],
    ["backtests.figure.trades", num(r.trades, 0), "trades"],
    ["backtests.figure.winsLosses", `${num(r.wins, 0)} / ${num(r.losses, 0)}`, "wins"],
    ["backtests.figure.profit", `${num(r.profit)} (${num(r.profit_pct)} %)`, "profit"],
    ["backtests.figure.fees", num(r.fees), "fees"],
    ["backtests.figure.drawdown", `${num(r.max_drawdown_pct)} %`, "drawdown"],
    ["backtests.figure.margin", num(r.max_margin_used), "margin"],
    ["backtests.figure.addons", num(r.addons_max, 0), "addons"],
    ["backtests.figure.recovery", `${num(r.recovery_time_pct)} %`, "recovery"],
    ["backtests.figure.sharpe", num(r.sharpe), "sharpe"],
  ];
  return (
    <>
      <table className="table" data-testid="backtest-figures">
        <tbody>
          {rows.map(([label, value, id]) => (
            <tr key={id} data-testid={`figure-${id}`}>
              <th scope="row">{t(label)}</th>
              <td className="num" style={{ whiteSpace: "normal", overflowWrap: "anywhere" }}>
                {value}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3 className="subheading">{t("backtests.equity")}</h3>
      <EquityChart points={r.equity ?? []} />
      <p>
        <a href={backtestsApi.reportUrl(job.id)} target="_blank" rel="noopener noreferrer" data-testid="backtest-report-link">
          {t("backtests.report")}
        </a>
      </p>
    </>
  );
}

export function SweepResults({ job }: { job: Job<SweepResult> }) {
  const { t } = useI18n();
  const num = useNumber();
  const result = job.result!;
  const objective = result.objective;
  const keys = gridKeys(job.grid);
  const [xKey, setXKey] = useState(keys[0] ?? "");
  const [yKey, setYKey] = useState(keys[1] ?? keys[0] ?? "");
  const metric = t(`backtests.objective.${objective}` as MessageKey);
  const options = keys.map((k) => ({ value: k, label: k }));
  return (
    <>
      <p data-testid="sweep-summary">
        {t("backtests.sweep.results", { count: result.results.length })}
        {result.failed.length ? ` · ${t("backtests.sweep.failed", { count: result.failed.length })}` : ""}
      </p>
      {result.results.length === 0 ? (
        <p className="empty">{t("backtests.sweep.noResults")}</p>
      ) : (
        <table className="table" data-testid="sweep-table">
          <thead>
            <tr>
              <th scope="col">{t("backtests.sweep.rank")}</th>
              <th scope="col">{t("backtests.sweep.settings")}</th>
              <th scope="col" className="num">{metric}</th>
              <th scope="col" className="num">{t("backtests.figure.drawdown")}</th>
            </tr>
          </thead>
          <tbody>
            {result.results.slice(0, SHOWN_ROWS).map((row, i) => (
              <tr key={keys.map((k) => row.settings[k]).join("|") || i} data-testid="sweep-row">
                <td className="num">{i + 1}</td>
                <td style={{ overflowWrap: "anywhere" }}>{keys.map((k) => `${k}=${row.settings[k] ?? ""}`).join(" · ")}</td>
                <td className="num">{num(metricOf(row, objective), 3)}</td>
                <td className="num">{num(row.max_drawdown_pct)} %</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3 className="subheading">{t("backtests.heatmap")}</h3>
      {keys.length < 2 ? (
        <p className="empty">{t("backtests.heatmap.needTwo")}</p>
      ) : (
        <>
          <div className="button-row">
            <SelectField label={t("backtests.heatmap.x")} value={xKey} onValue={setXKey} options={options} testId="heatmap-x" />
            <SelectField label={t("backtests.heatmap.y")} value={yKey} onValue={setYKey} options={options} testId="heatmap-y" />
          </div>
          <HeatmapChart rows={result.results} xKey={xKey} yKey={yKey} objective={objective} />
        </>
      )}
    </>
  );
}
