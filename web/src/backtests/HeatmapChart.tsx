// A sweep's heatmap: the ranking metric over two swept settings, one coloured cell per pair of values.
import { useI18n } from "../i18n/I18nContext";
import type { MessageKey } from "../i18n/catalogue";
import type { Objective, SweepRow } from "./api";
import { cellColour, heatmap } from "./model";

const CELL_W = 64;
const CELL_H = 30;
const LEFT = 56;
const BOTTOM = 40;

export function HeatmapChart(props: { rows: readonly SweepRow[]; xKey: string; yKey: string; objective: Objective }) {
  const { rows, xKey, yKey, objective } = props;
  const { t, locale } = useI18n();
  const map = heatmap(rows, xKey, yKey, objective);
  if (map.cells.size === 0) return null;
  const width = LEFT + CELL_W * map.xs.length + 4;
  const height = CELL_H * map.ys.length + BOTTOM;
  const fmt = (v: number) => v.toLocaleString(locale, { maximumSignificantDigits: 4 });
  const metric = t(`backtests.objective.${objective}` as MessageKey);
  const label = t("backtests.heatmap.label", { metric, x: xKey, y: yKey, low: fmt(map.low), high: fmt(map.high) });
  const top = (j: number) => (map.ys.length - 1 - j) * CELL_H;
  return (
    <figure className="bt-figure">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width="100%"
        role="img"
        aria-label={label}
        data-testid="sweep-heatmap"
        style={{ display: "block", maxWidth: `${width * 1.6}px` }}
      >
        {map.xs.map((x, i) =>
          map.ys.map((y, j) => {
            const value = map.cells.get(`${x}|${y}`);
            if (value === undefined) return null;
            const shade = map.high > map.low ? (value - map.low) / (map.high - map.low) : 1;
            return (
              <g key={`${x}|${y}`} data-testid="heatmap-cell" data-x={x} data-y={y} data-value={value}>
                <rect x={LEFT + i * CELL_W} y={top(j)} width={CELL_W - 1} height={CELL_H - 1} fill={cellColour(shade)}>
                  <title>{`${xKey}=${x}, ${yKey}=${y}: ${fmt(value)}`}</title>
                </rect>
                <text x={LEFT + i * CELL_W + CELL_W / 2} y={top(j) + CELL_H / 2 + 4} textAnchor="middle" fontSize={11}>
                  {fmt(value)}
                </text>
              </g>
            );
          }),
        )}
        {map.xs.map((x, i) => (
          <text key={x} x={LEFT + i * CELL_W + CELL_W / 2} y={CELL_H * map.ys.length + 14} textAnchor="middle" fontSize={11}>
            {x}
          </text>
        ))}
        {map.ys.map((y, j) => (
          <text key={y} x={LEFT - 6} y={top(j) + CELL_H / 2 + 4} textAnchor="end" fontSize={11}>
            {y}
          </text>
        ))}
        <text x={LEFT + (CELL_W * map.xs.length) / 2} y={height - 6} textAnchor="middle" fontSize={11}>
          {xKey}
        </text>
      </svg>
      <figcaption className="field-hint">
        {label}. {t("backtests.heatmap.note")}
      </figcaption>
    </figure>
  );
}
