// Display of decimal strings from the API without turning them into floats (which would round money).

function separators(locale: string): { group: string; decimal: string } {
  const parts = new Intl.NumberFormat(locale).formatToParts(12345.6);
  return {
    group: parts.find((p) => p.type === "group")?.value ?? ",",
    decimal: parts.find((p) => p.type === "decimal")?.value ?? ".",
  };
}

/**
 * "12345.678900" → "12,345.6789" (en) or "12.345,6789" (it): thousands grouped, trailing zeros of the
 * fraction dropped, at most `maxFraction` digits (truncated, not rounded: a balance is never shown as
 * more than it is). Anything that is not a plain decimal is returned unchanged.
 */
export function formatDecimal(value: string, locale: string, maxFraction = 8): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) return value;
  const [, sign = "", whole = "0", fraction = ""] = match;
  const { group, decimal } = separators(locale);
  const grouped = whole.replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, group);
  const shown = fraction.slice(0, maxFraction).replace(/0+$/, "");
  const isZero = /^0*$/.test(whole) && /^0*$/.test(shown);
  return (isZero ? "" : sign) + grouped + (shown ? decimal + shown : "");
}
