import { describe, expect, it } from "vitest";
import { describeDetail, EMPTY_FILTERS, localToIso, pageCount, rangeIsEmpty, toQuery } from "./filters";

describe("audit filters", () => {
  it("sends only the filters that are set", () => {
    expect(toQuery(EMPTY_FILTERS, 1)).toEqual({
      kind: undefined,
      connection: undefined,
      since: undefined,
      until: undefined,
      page: 1,
      page_size: 50,
    });
    const query = toQuery({ kind: "connection.tested", connection: " MEXC Spot Main ", since: "2026-11-21T09:30", until: "" }, 3);
    expect(query.kind).toBe("connection.tested");
    expect(query.connection).toBe("MEXC Spot Main");
    expect(query.since).toBe(new Date("2026-11-21T09:30").toISOString());
    expect(query.page).toBe(3);
  });

  it("turns local date-times into UTC instants, and rubbish into nothing", () => {
    expect(localToIso("")).toBeUndefined();
    expect(localToIso("yesterday")).toBeUndefined();
    expect(localToIso("2026-01-02T03:04")?.endsWith("Z")).toBe(true);
  });

  it("flags a range whose end is not after its start", () => {
    expect(rangeIsEmpty({ ...EMPTY_FILTERS, since: "2026-11-21T10:00", until: "2026-11-21T09:00" })).toBe(true);
    expect(rangeIsEmpty({ ...EMPTY_FILTERS, since: "2026-11-21T10:00", until: "2026-11-21T10:00" })).toBe(true);
    expect(rangeIsEmpty({ ...EMPTY_FILTERS, since: "2026-11-21T09:00", until: "2026-11-21T10:00" })).toBe(false);
    expect(rangeIsEmpty({ ...EMPTY_FILTERS, since: "2026-11-21T09:00" })).toBe(false);
  });

  it("counts pages, at least one", () => {
    expect(pageCount(0, 50)).toBe(1);
    expect(pageCount(50, 50)).toBe(1);
    expect(pageCount(51, 50)).toBe(2);
  });

  it("describes details compactly, skipping empty values", () => {
    expect(describeDetail({ status: "online", code: null, fields: ["apiKey", "secret"] })).toBe(
      'status: online · fields: ["apiKey","secret"]',
    );
  });
});
