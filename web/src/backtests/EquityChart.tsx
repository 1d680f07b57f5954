// The equity curve of one backtest as an SVG line (points already downsampled by the server).
import { useI18n } from "../i18n/I18nContext";

const W = 600;
const H = 200;
const PAD = 6;

export function EquityChart({ points }: { points: readonly [number, number][] }) {
  const { t, locale } = useI18n();
  if (points.length < 2) return null;
  const values = points.map((p) => p[1]);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low || 1;
  const first = points[0]![0];
  const last = points[points.length - 1]![0];
  const x = (time: number) => PAD + ((time - first) / (last - first || 1)) * (W - 2 * PAD);
  const y = (value: number) => PAD + ((high - value) / span) * (H - 2 * PAD);
  const line = points.map(([time, value]) => `${x(time).toFixed(1)},${y(value).toFixed(1)}`).join(" ");
  const fmt = (v: number) => v.toLocaleString(locale, { maximumFractionDigits: 2 });
  const label = t("backtests.equity.label", { low: fmt(low), high: fmt(high) });
  return (
    <figure className="bt-figure">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width="100%"
        role="img"
        aria-label={label}
        data-testid="backtest-equity-chart"
        preserveAspectRatio="none"
        style={{ display: "block", maxHeight: "14rem", background: "var(--surface, #fff)" }}
      >
        <line x1={PAD} x2={W - PAD} y1={y(low)} y2={y(low)} stroke="#e2e8f0" />
        <line x1={PAD} x2={W - PAD} y1={y(high)} y2={y(high)} stroke="#e2e8f0" />
        <polyline fill="none" stroke="#2563eb" strokeWidth={1.5} points={line} vectorEffect="non-scaling-stroke" />
      </svg>
      <figcaption className="field-hint">{label}</figcaption>
    </figure>
  );
}
