// The live stream (/api/v1/stream): one WebSocket per tab, reconnecting with backoff; pages subscribe
// to its messages. The session cookie authenticates it, so no token ever appears in the URL.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { API_BASE, reportUnauthorized } from "../api/client";
import type { StreamMessage } from "../api/types";
import { reconnectDelay } from "./backoff";

/** The server closes with 4401 when the session or token is no longer valid. */
const CLOSE_UNAUTHENTICATED = 4401;

export type LivePhase = "connecting" | "open" | "retrying";
export type StreamListener = (message: StreamMessage) => void;

interface Live {
  phase: LivePhase;
  retryInS: number;
  subscribe: (listener: StreamListener) => () => void;
}

const LiveContext = createContext<Live | null>(null);

function streamUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${API_BASE}/stream`;
}

/** A message, if the text is one we understand; anything else is ignored rather than trusted. */
export function parseStreamMessage(text: string): StreamMessage | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== "object" || data === null) return null;
  const record = data as Record<string, unknown>;
  if (record.type === "hello") return { type: "hello" };
  if ((record.type === "audit" || record.type === "connection.status") && typeof record.kind === "string") {
    return {
      type: record.type,
      id: typeof record.id === "number" ? record.id : 0,
      ts: typeof record.ts === "string" ? record.ts : "",
      kind: record.kind,
      actor: typeof record.actor === "string" ? record.actor : "",
      connection_id: typeof record.connection_id === "string" ? record.connection_id : null,
      connection_name: typeof record.connection_name === "string" ? record.connection_name : null,
      detail:
        typeof record.detail === "object" && record.detail !== null
          ? (record.detail as Record<string, unknown>)
          : {},
    };
  }
  return null;
}

export function LiveProvider({ children }: { children: ReactNode }) {
  const [phase, setPhase] = useState<LivePhase>("connecting");
  const [retryInS, setRetryInS] = useState(0);
  const listeners = useRef(new Set<StreamListener>());

  useEffect(() => {
    let socket: WebSocket | null = null;
    let timer: number | undefined;
    let attempt = 0;
    let stopped = false;

    const connect = () => {
      setPhase("connecting");
      socket = new WebSocket(streamUrl());
      socket.onopen = () => {
        attempt = 0;
        setPhase("open");
      };
      socket.onmessage = (event: MessageEvent) => {
        if (typeof event.data !== "string") return;
        const message = parseStreamMessage(event.data);
        if (message) for (const listener of listeners.current) listener(message);
      };
      socket.onclose = (event: CloseEvent) => {
        socket = null;
        if (stopped) return;
        if (event.code === CLOSE_UNAUTHENTICATED) {
          // The session ended (expired, token revoked): retrying cannot help; show the login instead.
          reportUnauthorized();
          return;
        }
        const delay = reconnectDelay(attempt++);
        setRetryInS(Math.ceil(delay / 1000));
        setPhase("retrying");
        timer = window.setTimeout(connect, delay);
      };
    };
    connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      if (socket) {
        socket.onclose = null;
        socket.close();
      }
    };
  }, []);

  const subscribe = useCallback((listener: StreamListener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const value = useMemo(() => ({ phase, retryInS, subscribe }), [phase, retryInS, subscribe]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  const value = useContext(LiveContext);
  if (!value) throw new Error("useLive outside LiveProvider");
  return value;
}

/** Call `listener` for every stream message while the component is mounted (latest closure wins). */
export function useStream(listener: StreamListener): void {
  const { subscribe } = useLive();
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => subscribe((message) => latest.current(message)), [subscribe]);
}
