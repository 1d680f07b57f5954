// Catalogue types and the message formatter (pure; no React).
import type { MessageKey } from "./en";

export type { MessageKey };
/** A translation: any subset of the English keys; what is missing falls back to English. */
export type Catalogue = Partial<Record<MessageKey, string>>;
export type Params = Record<string, string | number>;

/** Replace {name} placeholders; an unknown placeholder is left visible so a missing param is noticed. */
export function format(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** The placeholder names used in a template, sorted (for consistency checks between languages). */
export function placeholders(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "").sort();
}
