import { describe, expect, it } from "vitest";
import { cmp, div, floorToStep, onStep, parseDec, plain, toText } from "./decimal";

const d = (text: string) => {
  const value = parseDec(text);
  if (!value) throw new Error(`not a number: ${text}`);
  return value;
};

describe("decimal", () => {
  it("reads plain and exponent forms, as Python's str(Decimal) writes them", () => {
    expect(toText(d("12.500"))).toBe("12.5");
    expect(toText(d("1E-8"))).toBe("0.00000001");
    expect(toText(d("1.5E+3"))).toBe("1500");
    expect(toText(d("-0.25"))).toBe("-0.25");
    expect(toText(d(".5"))).toBe("0.5");
    expect(parseDec("")).toBeNull();
    expect(parseDec("abc")).toBeNull();
    expect(parseDec("1.2.3")).toBeNull();
    expect(plain("1E-7")).toBe("0.0000001");
    expect(plain("n/a")).toBe("n/a");
  });

  it("compares and divides exactly (no float rounding)", () => {
    expect(cmp(d("0.3"), d("0.30"))).toBe(0);
    expect(cmp(d("0.1"), d("0.09999999"))).toBe(1);
    expect(cmp(d("4.99"), d("5"))).toBe(-1);
    expect(toText(div(d("20"), d("50000")))).toBe("0.0004");
    expect(toText(div(d("1"), d("3"), 4))).toBe("0.3333");
  });

  it("floors to an exchange's step and checks multiples", () => {
    expect(toText(floorToStep(d("0.00123456"), d("0.0001")))).toBe("0.0012");
    expect(toText(floorToStep(d("0.00009"), d("0.0001")))).toBe("0");
    expect(toText(floorToStep(d("12345"), d("10")))).toBe("12340");
    expect(onStep(d("0.0012"), d("0.0001"))).toBe(true);
    expect(onStep(d("0.00125"), d("0.0001"))).toBe(false);
    expect(onStep(d("49999.99"), d("1E-2"))).toBe(true);
  });
});
