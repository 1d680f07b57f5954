import { describe, expect, it } from "vitest";
import { BASE_DELAY_MS, MAX_DELAY_MS, reconnectDelay } from "./backoff";

describe("reconnectDelay", () => {
  it("doubles from one second without jitter (random = 0.5)", () => {
    expect([0, 1, 2, 3, 4].map((a) => reconnectDelay(a, 0.5))).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it("never exceeds the cap, however many attempts", () => {
    for (const random of [0, 0.5, 0.999]) expect(reconnectDelay(50, random)).toBeLessThanOrEqual(MAX_DELAY_MS);
    expect(reconnectDelay(50, 0.5)).toBe(MAX_DELAY_MS);
  });

  it("spreads by at most ±20%", () => {
    expect(reconnectDelay(0, 0)).toBe(BASE_DELAY_MS * 0.8);
    expect(reconnectDelay(0, 0.999)).toBeLessThanOrEqual(BASE_DELAY_MS * 1.2);
    expect(reconnectDelay(0, 0.999)).toBeGreaterThan(BASE_DELAY_MS * 1.19);
  });
});
