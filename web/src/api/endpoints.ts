// Typed calls, one per API route the dashboard uses.
import { request } from "./client";
import type {
  AuditPage,
  AuditQuery,
  Connection,
  CreateConnectionBody,
  CreatedConnection,
  EditConnectionBody,
  EditResult,
  CredentialField,
  Exchange,
  HistoryItem,
  Me,
  Order,
  OrderBody,
  Portfolio,
  RotateResult,
  ServerInfo,
  TestResult,
  TicketInfo,
} from "./types";

const enc = encodeURIComponent;

export const api = {
  me: () => request<Me>("/auth/me", { quiet401: true }),
  login: (token: string) => request<Me>("/auth/login", { method: "POST", body: { token }, quiet401: true }),
  logout: () => request<void>("/auth/logout", { method: "POST", quiet401: true }),
  serverInfo: () => request<ServerInfo>("/server-info"),
  exchanges: () => request<Exchange[]>("/exchanges"),
  connections: () => request<Connection[]>("/connections"),
  createConnection: (body: CreateConnectionBody) =>
    request<CreatedConnection>("/connections", { method: "POST", body }),
  editConnection: (id: string, body: EditConnectionBody) =>
    request<EditResult>(`/connections/${enc(id)}`, { method: "PATCH", body }),
  testConnection: (id: string) => request<TestResult>(`/connections/${enc(id)}/test`, { method: "POST" }),
  rotateConnection: (id: string, credentials: Partial<Record<CredentialField, string>>) =>
    request<RotateResult>(`/connections/${enc(id)}/rotate`, { method: "POST", body: { credentials } }),
  removeConnection: (id: string) => request<void>(`/connections/${enc(id)}`, { method: "DELETE" }),
  history: (id: string, limit = 1) => request<HistoryItem[]>(`/connections/${enc(id)}/history?limit=${limit}`),
  portfolio: (quote: string) => request<Portfolio>(`/portfolio?quote=${enc(quote)}`),
  audit: (query: AuditQuery) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") params.set(key, String(value));
    }
    return request<AuditPage>(`/audit?${params.toString()}`);
  },
  // Manual trading (issue 18): read scope for the ticket and the list, trade scope to place and cancel.
  ticket: (connection: string, pair?: string) =>
    request<TicketInfo>(`/connections/${enc(connection)}/ticket${pair ? `?pair=${enc(pair)}` : ""}`),
  orders: (connection: string, open = false) =>
    request<Order[]>(`/connections/${enc(connection)}/orders${open ? "?open=true" : ""}`),
  placeOrder: (connection: string, body: OrderBody) =>
    request<Order>(`/connections/${enc(connection)}/orders`, { method: "POST", body }),
  cancelOrder: (connection: string, orderId: string) =>
    request<Order>(`/connections/${enc(connection)}/orders/${enc(orderId)}`, { method: "DELETE" }),
};
