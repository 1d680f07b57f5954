import { describe, expect, it } from "vitest";
import { parseStreamMessage } from "./LiveContext";

describe("parseStreamMessage", () => {
  it("reads hello and events", () => {
    expect(parseStreamMessage('{"type":"hello","server_version":"0.1.0"}')).toEqual({ type: "hello" });
    const event = parseStreamMessage(
      JSON.stringify({
        type: "connection.status",
        id: 7,
        ts: "2026-11-21T09:00:00Z",
        kind: "connection.status_changed",
        actor: "monitor",
        connection_id: "c1",
        connection_name: "MEXC Spot Main",
        detail: { previous: "online", status: "ip_not_allowed" },
      }),
    );
    expect(event).toMatchObject({ type: "connection.status", connection_id: "c1", detail: { status: "ip_not_allowed" } });
  });

  it("ignores what it does not understand", () => {
    expect(parseStreamMessage("not json")).toBeNull();
    expect(parseStreamMessage('{"type":"bots.tick"}')).toBeNull();
    expect(parseStreamMessage('{"type":"audit"}')).toBeNull(); // no kind
    expect(parseStreamMessage("null")).toBeNull();
  });

  it("fills safe defaults for missing fields", () => {
    expect(parseStreamMessage('{"type":"audit","kind":"auth.login","detail":"x"}')).toEqual({
      type: "audit",
      id: 0,
      ts: "",
      kind: "auth.login",
      actor: "",
      connection_id: null,
      connection_name: null,
      detail: {},
    });
  });
});
