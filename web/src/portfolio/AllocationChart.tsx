// The allocation chart: one stacked bar of each asset's share of the total (plain SVG, no library), with
// a legend that says the same in words and numbers, so the chart never speaks through colour alone.
import { useI18n } from "../i18n/I18nContext";
import type { Slice } from "./holdings";

// Distinguishable colours (Okabe–Ito), readable for the common colour-vision deficiencies.
const COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999"];

export function AllocationChart({ slices }: { slices: readonly Slice[] }) {
  const { t, locale } = useI18n();
  const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  const label = (slice: Slice) => (slice.other ? t("portfolio.other") : slice.label);
  let x = 0;
  return (
    <figure className="allocation" data-testid="portfolio-allocation">
      <figcaption className="subheading">{t("portfolio.allocation")}</figcaption>
      <svg
        className="allocation-bar"
        viewBox="0 0 1000 40"
        preserveAspectRatio="none"
        role="img"
        aria-label={`${t("portfolio.allocation.caption")}: ${slices.map((s) => `${label(s)} ${percent.format(s.share)}`).join(", ")}`}
      >
        {slices.map((slice, i) => {
          const width = slice.share * 1000;
          const rect = (
            <rect key={slice.other ? "other" : slice.label} x={x} y={0} width={width} height={40} fill={COLOURS[i % COLOURS.length]}>
              <title>{`${label(slice)} ${percent.format(slice.share)}`}</title>
            </rect>
          );
          x += width;
          return rect;
        })}
      </svg>
      <ul className="allocation-legend">
        {slices.map((slice, i) => (
          <li key={slice.other ? "other" : slice.label} data-testid="allocation-slice" data-asset={slice.other ? "" : slice.label} data-share={slice.share.toFixed(4)}>
            <svg className="swatch" viewBox="0 0 10 10" aria-hidden="true">
              <rect width="10" height="10" fill={COLOURS[i % COLOURS.length]} />
            </svg>
            {label(slice)} <span className="muted">{percent.format(slice.share)}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
