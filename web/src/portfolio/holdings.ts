// Holdings per asset across connections, and each asset's share of the total. Pure. Amounts stay decimal
// strings added exactly (BigInt on a common scale); only the shares for the chart are floats.
import type { Portfolio, PortfolioConnection } from "../api/types";

function parse(value: string): { units: bigint; scale: number } | null {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) return null;
  const [, sign = "", whole = "0", fraction = ""] = match;
  const units = BigInt(whole + fraction) * (sign === "-" ? -1n : 1n);
  return { units, scale: fraction.length };
}

/** a + b for decimal strings, exactly ("0.1" + "0.2" = "0.3"); an unreadable operand counts as 0. */
export function addDecimals(a: string, b: string): string {
  const x = parse(a) ?? { units: 0n, scale: 0 };
  const y = parse(b) ?? { units: 0n, scale: 0 };
  const scale = Math.max(x.scale, y.scale);
  const sum = x.units * 10n ** BigInt(scale - x.scale) + y.units * 10n ** BigInt(scale - y.scale);
  const negative = sum < 0n;
  const digits = (negative ? -sum : sum).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

export interface Holding {
  asset: string;
  amount: string;
  /** Value in the portfolio's quote; null when no balance of it has a price. */
  value: string | null;
  /** Share of the counted total value, 0..1 (0 without a value). */
  share: number;
  /** The connections holding it, by name. */
  connections: string[];
  /** Every connection holding it is simulated. */
  simulated: boolean;
}

/** True when a connection's balances are part of the total (a testnet's test funds never are). */
export function isCounted(connection: PortfolioConnection): boolean {
  return connection.total !== null && !connection.testnet;
}

/** Holdings of the counted connections per asset, largest value first. */
export function holdingsByAsset(portfolio: Portfolio): Holding[] {
  const byAsset = new Map<string, Holding>();
  for (const connection of portfolio.connections.filter(isCounted)) {
    for (const balance of connection.balances) {
      const holding = byAsset.get(balance.asset) ?? {
        asset: balance.asset,
        amount: "0",
        value: null,
        share: 0,
        connections: [],
        simulated: true,
      };
      holding.amount = addDecimals(holding.amount, balance.total);
      if (balance.value !== null) holding.value = addDecimals(holding.value ?? "0", balance.value);
      if (!holding.connections.includes(connection.name)) holding.connections.push(connection.name);
      holding.simulated = holding.simulated && Boolean(connection.simulated);
      byAsset.set(balance.asset, holding);
    }
  }
  const holdings = [...byAsset.values()];
  const total = holdings.reduce((sum, h) => sum + Number(h.value ?? 0), 0);
  for (const holding of holdings) holding.share = total > 0 ? Number(holding.value ?? 0) / total : 0;
  return holdings.sort((a, b) => b.share - a.share || a.asset.localeCompare(b.asset));
}

export interface Slice {
  label: string;
  share: number;
  /** true for the "other assets" slice. */
  other: boolean;
}

/** The chart's slices: the `max - 1` largest assets with a value, the rest as one "other" slice. */
export function allocationSlices(holdings: readonly Holding[], max = 6): Slice[] {
  const valued = holdings.filter((h) => h.share > 0);
  if (valued.length <= max) return valued.map((h) => ({ label: h.asset, share: h.share, other: false }));
  const head = valued.slice(0, max - 1).map((h) => ({ label: h.asset, share: h.share, other: false }));
  const rest = valued.slice(max - 1).reduce((sum, h) => sum + h.share, 0);
  return [...head, { label: "", share: rest, other: true }];
}
