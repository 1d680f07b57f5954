// Exact decimal arithmetic for the order ticket's preview (BigInt units on a decimal scale). Pure.
// Money never becomes a float here: a preview that rounded 0.1 + 0.2 would explain the wrong minimum.

/** A decimal number: `units` × 10^-`scale` (scale ≥ 0). */
export interface Dec {
  units: bigint;
  scale: number;
}

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A decimal from text: "12.5", "-3", "1E-8" (Python's str(Decimal) for small steps); null if it is none. */
export function parseDec(text: string): Dec | null {
  const match = NUMBER.exec(text.trim());
  if (!match) return null;
  const [, sign = "", whole = "", fraction = "", exponent = "0"] = match;
  if (whole === "" && fraction === "") return null;
  let units = BigInt((whole || "0") + fraction);
  let scale = fraction.length - Number(exponent);
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units: sign === "-" ? -units : units, scale };
}

function rescale(value: Dec, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

/** -1, 0 or 1 as a is below, equal to or above b. */
export function cmp(a: Dec, b: Dec): number {
  const scale = Math.max(a.scale, b.scale);
  const x = rescale(a, scale);
  const y = rescale(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function mul(a: Dec, b: Dec): Dec {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

export function add(a: Dec, b: Dec): Dec {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) + rescale(b, scale), scale };
}

/** a / b to `scale` places, rounded toward zero (b must not be 0). */
export function div(a: Dec, b: Dec, scale = 18): Dec {
  // a/b = (a.units · 10^b.scale) / (b.units · 10^a.scale); times 10^scale for the result's units.
  const numerator = a.units * 10n ** BigInt(b.scale + scale);
  const denominator = b.units * 10n ** BigInt(a.scale);
  return { units: numerator / denominator, scale };
}

/** The largest multiple of `step` not above `value` (both positive), as the exchange would accept it. */
export function floorToStep(value: Dec, step: Dec): Dec {
  const count = div(value, step, 0).units;
  return mul({ units: count, scale: 0 }, step);
}

/** Whether `value` is a whole number of `step`s. */
export function onStep(value: Dec, step: Dec): boolean {
  return cmp(floorToStep(value, step), value) === 0;
}

export function isZero(value: Dec): boolean {
  return value.units === 0n;
}

/** Plain decimal text without trailing zeros: "0.00100" → "0.001", 1E-8 → "0.00000001". */
export function toText(value: Dec): string {
  const negative = value.units < 0n;
  const digits = (negative ? -value.units : value.units).toString().padStart(value.scale + 1, "0");
  const whole = digits.slice(0, digits.length - value.scale);
  const fraction = digits.slice(digits.length - value.scale).replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && text !== "0" ? `-${text}` : text;
}

/** Server decimal text in plain form ("1E-8" → "0.00000001"); anything unreadable is returned as it is. */
export function plain(text: string): string {
  const value = parseDec(text);
  return value ? toText(value) : text;
}
