import { describe, expect, it } from "vitest";
import {
  credentialFieldsFor,
  marketsFor,
  MAX_NAME_LENGTH,
  validateCredential,
  validateCredentials,
  validateEndpoint,
  validateMarket,
  validateName,
} from "./validation";

describe("validateName", () => {
  it("accepts the naming examples", () => {
    expect(validateName("MEXC Spot Main")).toBeNull();
    expect(validateName("KuCoin Futures Conservative")).toBeNull();
  });

  it("refuses empty and blank names", () => {
    expect(validateName("")?.key).toBe("validation.name.empty");
    expect(validateName("   \t ")?.key).toBe("validation.name.empty");
  });

  it("allows exactly 64 characters and refuses 65, counting after trimming", () => {
    expect(validateName("a".repeat(MAX_NAME_LENGTH))).toBeNull();
    expect(validateName(`  ${"a".repeat(MAX_NAME_LENGTH)}  `)).toBeNull();
    const error = validateName("a".repeat(MAX_NAME_LENGTH + 1));
    expect(error?.key).toBe("validation.name.tooLong");
    expect(error?.params).toEqual({ max: 64, length: 65 });
  });

  it("counts characters, not UTF-16 units (as the server does)", () => {
    expect(validateName("🚀".repeat(64))).toBeNull();
    expect(validateName("🚀".repeat(65))?.key).toBe("validation.name.tooLong");
  });

  it("refuses control characters", () => {
    expect(validateName("Main\u0007")?.key).toBe("validation.name.control");
    expect(validateName("Ma\nin")?.key).toBe("validation.name.control");
  });

  it("refuses a duplicate, case-insensitively", () => {
    expect(validateName("Binance Main", ["binance main"])?.key).toBe("validation.name.duplicate");
    expect(validateName("Binance Main 2", ["binance main"])).toBeNull();
  });
});

describe("credentials", () => {
  it("always needs apiKey and secret, plus what the exchange lists, in ccxt order", () => {
    expect(credentialFieldsFor([])).toEqual(["apiKey", "secret"]);
    expect(credentialFieldsFor(["password", "secret", "apiKey"])).toEqual(["apiKey", "secret", "password"]);
    expect(credentialFieldsFor(["apiKey", "secret", "uid", "bogus"])).toEqual(["apiKey", "secret", "uid"]);
  });

  it("names the missing field and the exchange", () => {
    const error = validateCredential("password", "", "KuCoin");
    expect(error?.key).toBe("validation.credential.required");
    expect(error?.params).toEqual({ exchange: "KuCoin" });
    expect(error?.paramKeys).toEqual({ field: "cred.password" });
  });

  it("refuses whitespace anywhere in keys and secrets", () => {
    for (const value of [" abcdefghij", "abcdefghij ", "abcde fghij", "abcdefghij\n", "abc\tdefghij"]) {
      expect(validateCredential("apiKey", value, "MEXC")?.key).toBe("validation.credential.whitespace");
      expect(validateCredential("secret", value, "MEXC")?.key).toBe("validation.credential.whitespace");
    }
  });

  it("lets a passphrase contain spaces inside but not at either end", () => {
    expect(validateCredential("password", "two words", "KuCoin")).toBeNull();
    expect(validateCredential("password", "trailing ", "KuCoin")?.key).toBe("validation.credential.whitespace");
    expect(validateCredential("password", "\tleading", "KuCoin")?.key).toBe("validation.credential.whitespace");
  });

  it("refuses invisible control characters (a paste from a PDF)", () => {
    expect(validateCredential("apiKey", "abcd\u200befghij", "MEXC")?.key).toBe("validation.credential.whitespace");
  });

  it("checks the server's length limits", () => {
    expect(validateCredential("apiKey", "1234567", "MEXC")).toEqual({
      key: "validation.credential.tooShort",
      params: { length: 7, min: 8 },
    });
    expect(validateCredential("apiKey", "12345678", "MEXC")).toBeNull();
    expect(validateCredential("apiKey", "k".repeat(513), "MEXC")?.key).toBe("validation.credential.tooLong");
    expect(validateCredential("password", "p", "KuCoin")).toBeNull();
  });

  it("validates every required field at once and only those", () => {
    const errors = validateCredentials(["apiKey", "secret", "password"], { apiKey: "goodkey123", secret: "bad secret" }, "KuCoin");
    expect(Object.keys(errors).sort()).toEqual(["password", "secret"]);
  });
});

describe("validateEndpoint", () => {
  it("accepts empty (no override) and http(s) URLs", () => {
    expect(validateEndpoint("")).toBeNull();
    expect(validateEndpoint("   ")).toBeNull();
    expect(validateEndpoint("http://127.0.0.1:8765")).toBeNull();
    expect(validateEndpoint("https://proxy.example.com/exchanges/")).toBeNull();
  });

  it("refuses other schemes, missing hosts, spaces and embedded credentials", () => {
    for (const bad of ["ftp://host", "127.0.0.1:8765", "http://", "http:///path", "http://a b", "ws://127.0.0.1", "http://user:pw@host"]) {
      expect(validateEndpoint(bad)?.key, bad).toBe("validation.endpoint.invalid");
    }
  });
});

describe("markets", () => {
  it("offers both only when the exchange has spot and futures", () => {
    expect(marketsFor(["futures", "spot"])).toEqual(["spot", "futures", "both"]);
    expect(marketsFor(["spot"])).toEqual(["spot"]);
    expect(validateMarket("both", ["spot"])?.key).toBe("validation.market.unsupported");
    expect(validateMarket("futures", ["spot", "futures"])).toBeNull();
  });
});
