import { describe, expect, it } from "vitest";
import { formatDecimal } from "./decimal";

describe("formatDecimal", () => {
  it("groups thousands and drops trailing zeros of the fraction", () => {
    expect(formatDecimal("12345.678900", "en")).toBe("12,345.6789");
    expect(formatDecimal("1000000", "en")).toBe("1,000,000");
    expect(formatDecimal("0.5", "en")).toBe("0.5");
  });

  it("uses the language's separators", () => {
    expect(formatDecimal("12345.5", "it")).toBe("12.345,5");
    expect(formatDecimal("12345.5", "fr").replace(/\s/g, " ")).toBe("12 345,5");
  });

  it("truncates rather than rounds, so a balance never looks bigger than it is", () => {
    expect(formatDecimal("0.129", "en", 2)).toBe("0.12");
    expect(formatDecimal("1.999999999", "en", 8)).toBe("1.99999999");
  });

  it("keeps precision a float would lose", () => {
    expect(formatDecimal("12345678901234567.123456789", "en", 9)).toBe("12,345,678,901,234,567.123456789");
  });

  it("handles signs, zero and leading zeros; passes through what is not a decimal", () => {
    expect(formatDecimal("-1234.5", "en")).toBe("-1,234.5");
    expect(formatDecimal("-0.001", "en", 2)).toBe("0");
    expect(formatDecimal("000123", "en")).toBe("123");
    expect(formatDecimal("1e-8", "en")).toBe("1e-8");
  });
});
