// The bot's price chart (TradingView's lightweight-charts): candles of its pair, a marker per fill
// (entry ▲, add-on ●, exit ▼) and price lines for the average entry and the next triggers (take profit,
// next add-on or grid bounds). The chart is redrawn in place as the figures change; a table beside it
// (in BotView) says the same in words, since a canvas is not read out. The library's attribution logo
// injects a <style> element, which the dashboard's CSP (style-src 'self') refuses: BotView credits
// TradingView with a plain link under the chart instead, as its licence's NOTICE asks.
import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  LineStyle,
  type IChartApi,
  type IPriceLine,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import { useEffect, useRef } from "react";
import type { Bar, ChartMarker, PriceLine } from "./model";

const LINE_COLORS: Record<PriceLine["kind"], string> = { average: "#0969da", high: "#1a7f37", low: "#9a6700" };

export interface PriceChartProps {
  bars: Bar[];
  markers: ChartMarker[];
  lines: PriceLine[];
  lineLabels: Record<PriceLine["kind"], string>;
  label: string;
}

export function PriceChart({ bars, markers, lines, lineLabels, label }: PriceChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const markerApi = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const priceLines = useRef<IPriceLine[]>([]);
  const fitted = useRef(false);

  useEffect(() => {
    if (!box.current) return;
    const made = createChart(box.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "transparent" }, textColor: "#57606a", attributionLogo: false },
      grid: { vertLines: { color: "#eaeef2" }, horzLines: { color: "#eaeef2" } },
      timeScale: { timeVisible: true, secondsVisible: false },
      rightPriceScale: { borderVisible: false },
    });
    const candles = made.addSeries(CandlestickSeries, {
      upColor: "#1a7f37",
      downColor: "#cf222e",
      borderVisible: false,
      wickUpColor: "#1a7f37",
      wickDownColor: "#cf222e",
    });
    chart.current = made;
    series.current = candles;
    markerApi.current = createSeriesMarkers(candles, []);
    return () => {
      chart.current = null;
      series.current = null;
      markerApi.current = null;
      priceLines.current = [];
      made.remove();
    };
  }, []);

  useEffect(() => {
    const candles = series.current;
    if (!candles) return;
    candles.setData(bars.map((b) => ({ ...b, time: b.time as UTCTimestamp })));
    markerApi.current?.setMarkers(
      markers.map((m) => ({ time: m.time as UTCTimestamp, position: m.position, shape: m.shape, color: m.color, text: m.text })),
    );
    for (const line of priceLines.current) candles.removePriceLine(line);
    priceLines.current = lines.map((line) =>
      candles.createPriceLine({
        price: line.price,
        color: LINE_COLORS[line.kind],
        lineWidth: 1,
        lineStyle: line.kind === "average" ? LineStyle.Solid : LineStyle.Dashed,
        axisLabelVisible: true,
        title: lineLabels[line.kind],
      }),
    );
    if (!fitted.current && bars.length > 0) {
      chart.current?.timeScale().fitContent();
      fitted.current = true;
    }
  }, [bars, markers, lines, lineLabels]);

  return (
    <div
      ref={box}
      className="bot-chart"
      role="img"
      aria-label={label}
      data-testid="bot-chart"
      data-bars={bars.length}
      data-markers={markers.length}
      data-marker-kinds={markers.map((m) => m.kind).join(",")}
      data-lines={lines.map((l) => l.kind).join(",")}
    />
  );
}
