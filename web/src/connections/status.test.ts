import { describe, expect, it } from "vitest";
import { en } from "../i18n/en";
import { badgeFor, checkLabelKey, STATUSES, warningKeys, type Tone } from "./status";

describe("status → badge", () => {
  const expected: Record<string, [string, Tone]> = {
    online: ["Online", "ok"],
    invalid_key: ["Invalid key", "error"],
    no_trade_permission: ["No trading permission", "error"],
    no_futures_permission: ["No futures permission", "error"],
    ip_not_allowed: ["IP not allowed", "error"],
    withdraw_enabled: ["Withdrawal enabled", "error"],
    expired: ["Expired", "error"],
    integrity_error: ["Stored key damaged", "error"],
    clock_skew: ["Clock skew", "warn"],
    rate_limited: ["Rate limited", "warn"],
    exchange_unavailable: ["Exchange unavailable", "warn"],
    untested: ["Not tested yet", "neutral"],
    awaiting_api_key: ["Awaiting API key", "neutral"],
  };

  it("covers every status the server reports, and nothing else", () => {
    expect([...STATUSES].sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))("%s → its English label and tone", (status, [label, tone]) => {
    const badge = badgeFor(status);
    expect(badge.known).toBe(true);
    expect(badge.tone).toBe(tone);
    expect(en[badge.labelKey]).toBe(label);
  });

  it("only online is ok", () => {
    expect(STATUSES.filter((s) => badgeFor(s).tone === "ok")).toEqual(["online"]);
  });

  it("an unknown status is neutral and shows its code", () => {
    const badge = badgeFor("quantum_entangled");
    expect(badge).toMatchObject({ known: false, tone: "neutral", labelKey: "status.unknown", status: "quantum_entangled" });
    expect(en[badge.labelKey]).toContain("{code}");
  });
});

describe("warnings and checks", () => {
  it("ip_unrestricted has a label and a hint", () => {
    expect(warningKeys("ip_unrestricted")).toEqual({ labelKey: "warning.ip_unrestricted", hintKey: "warning.ip_unrestricted.hint" });
    expect(en[warningKeys("ip_unrestricted").labelKey]).toBe("IP unrestricted");
  });

  it("an unknown warning falls back to its code", () => {
    expect(warningKeys("new_thing")).toEqual({ labelKey: "warning.unknown", hintKey: null });
  });

  it("labels the test steps the server runs and only those", () => {
    for (const name of ["server_time", "authenticated_read", "key_permissions", "ip_restriction", "spot_market", "futures_account"]) {
      const key = checkLabelKey(name);
      expect(key, name).not.toBeNull();
      expect(key && en[key]).toBeTruthy();
    }
    expect(checkLabelKey("warp_drive")).toBeNull();
  });
});
