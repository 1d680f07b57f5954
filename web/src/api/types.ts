// Shapes of the TradeWarden API (/api/v1), as its OpenAPI document and the server issue describe them.
// Money arrives as decimal strings and stays a string here: the UI formats it, never does arithmetic.

/** ccxt's credential field names; `password` is the exchange passphrase. */
export type CredentialField = "apiKey" | "secret" | "password" | "uid";
export const CREDENTIAL_FIELDS: readonly CredentialField[] = ["apiKey", "secret", "password", "uid"];

export type Market = "spot" | "futures" | "both";

export interface Guide {
  where: string;
  enable: string[];
  disable: string[];
  ip_whitelist: string;
  notes: string[];
}

export interface Exchange {
  id: string;
  name: string;
  tier: number;
  markets: string[];
  credentials: string[];
  key_types: string[];
  ip_whitelist: boolean;
  permission_check: boolean;
  setting_names: Record<string, string>;
  guide: Guide;
  /** The testnet/demo environment a `testnet` connection reaches, or null when the exchange has none. */
  testnet?: string | null;
}

export interface Connection {
  id: string;
  name: string;
  exchange: string;
  market: string;
  endpoint: string | null;
  key_type: string;
  api_key: string; // already masked by the server ("mx0v…e7Qa")
  credential_fields: string[];
  status: string;
  status_checked_at: string | null;
  created_at: string;
  updated_at: string;
  /** Its endpoint is the simulator `tradewarden up` runs: simulated funds (older servers omit it). */
  simulated?: boolean;
  /** The exchange's testnet/demo account: not real funds, never in the portfolio total. */
  testnet?: boolean;
}

export interface Check {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
  label?: string;
  /** `detail` as a code with params (translated by the dashboard; `detail` is the English fallback). */
  detail_code?: string;
  detail_params?: Record<string, string>;
}

/** A warning's sentence, appended to the English remedy. */
export interface Note {
  warning: string;
  code: string;
  params: Record<string, string>;
  text: string;
}

export interface Permissions {
  read: boolean | null;
  spot_trade: boolean | null;
  futures_trade: boolean | null;
  withdraw: boolean | null;
  ip_restricted: boolean | null;
}

export interface TestResult {
  name: string;
  exchange: string;
  ok: boolean;
  status: string;
  warnings: string[];
  permissions: Permissions;
  checks: Check[];
  message: string;
  remedy: string;
  /** The exchange's own error code, when it gave one. */
  code?: string | null;
  message_code?: string | null;
  message_params?: Record<string, string>;
  remedy_code?: string | null;
  remedy_params?: Record<string, string>;
  notes?: Note[];
}

export interface HistoryItem extends TestResult {
  checked_at: string;
}

export interface RotateResult {
  rotated: boolean;
  test: TestResult;
}

export interface ServerInfo {
  version: string;
  outbound_address: string | null;
  client_address: string;
  note: string;
  /** The address exchanges see (the one to whitelist); null: not determined. */
  public_address?: string | null;
  public_address_source?: string;
  public_address_note?: string;
  public_address_note_code?: string;
  simulator_url?: string | null;
}

export interface Me {
  token_name: string;
  scope: string;
  via: string;
  csrf_token: string | null;
}

export interface AuditEvent {
  id: number;
  ts: string;
  kind: string;
  actor: string;
  connection_id: string | null;
  connection_name: string | null;
  detail: Record<string, unknown>;
  /** The event as an English sentence, and as a code (audit.<kind>) with params to translate. */
  message?: string;
  message_code?: string;
  message_params?: Record<string, string>;
}

export interface AuditPage {
  items: AuditEvent[];
  page: number;
  page_size: number;
  total: number;
}

export interface AuditQuery {
  kind?: string;
  connection?: string;
  since?: string; // ISO 8601
  until?: string;
  page: number;
  page_size: number;
}

export interface Balance {
  asset: string;
  free: string;
  used: string;
  total: string;
  value: string | null;
}

export interface PortfolioConnection {
  id: string;
  name: string;
  exchange: string;
  status: string;
  total: string | null;
  error: string | null;
  as_of: string | null;
  balances: Balance[];
  simulated?: boolean;
  /** A testnet connection: shown, never added to the portfolio total. */
  testnet?: boolean;
  /** `error` as a code: portfolio.not_counted {status, name} | portfolio.read_failed {reason} | … */
  error_code?: string | null;
  error_params?: Record<string, string>;
}

export interface Portfolio {
  quote: string;
  as_of: string;
  total: string;
  connections: PortfolioConnection[];
  /** The part of `total` that is simulated funds. */
  simulated_total?: string;
  /** Testnet connections' value, not part of `total`. */
  testnet_total?: string;
}

/** A message on the live stream (/api/v1/stream). */
export type StreamMessage =
  | { type: "hello"; server_version?: string; scope?: string }
  | ({ type: "audit" | "connection.status" } & AuditEvent);

export interface CreateConnectionBody {
  name: string;
  exchange: string;
  market: Market;
  endpoint?: string;
  credentials: Partial<Record<CredentialField, string>>;
  /** Test the key before storing it; a failing key is stored only with keep_untested. */
  test?: boolean;
  keep_untested?: boolean;
  /** On the exchange's testnet/demo account (only for an exchange whose `testnet` is not null). */
  testnet?: boolean;
}

/** POST /connections: the connection, and its key's test when one was asked for. */
export interface CreatedConnection extends Connection {
  test?: TestResult | null;
}

/** PATCH /connections/{id}: only the fields given change; `endpoint: null` goes back to the exchange. */
export interface EditConnectionBody {
  name?: string;
  market?: Market;
  endpoint?: string | null;
  credentials?: Partial<Record<CredentialField, string>>;
}

export interface EditResult {
  connection: Connection;
  rotated: boolean | null;
  test: TestResult | null;
}

// -- manual trading (issue 18): /connections/{name}/ticket, /orders --

/** GET /connections/{name}/ticket: what an order ticket shows before sending (null: the exchange states none). */
export interface TicketInfo {
  connection: string;
  exchange: string;
  pair: string;
  testnet: boolean;
  bid: string | null;
  ask: string | null;
  maker_fee: string;
  taker_fee: string;
  min_notional: string | null;
  min_amount: string | null;
  amount_step: string | null;
  price_step: string | null;
  base: string;
  quote: string;
}

export type OrderSide = "buy" | "sell";
export type OrderType = "market" | "limit";

/** POST /connections/{name}/orders: `amount` in the base currency, or in the quote with `quote: true`. */
export interface OrderBody {
  pair: string;
  side: OrderSide;
  amount: string;
  type: OrderType;
  price?: string;
  reduce_only?: boolean;
  paper: boolean;
  quote: boolean;
}

/** An order as the server stores it (amounts as decimal strings). */
export interface Order {
  id: string;
  client_order_id: string;
  exchange_order_id: string | null;
  mode: "paper" | "live";
  symbol: string;
  side: string;
  type: string;
  amount: string;
  price: string | null;
  reduce_only: boolean;
  status: string;
  filled: string;
  remaining: string | null;
  average: string | null;
  cost: string;
  fee: string;
  outcome: string | null;
  error: string | null;
  /** ISO 8601 UTC: when it was stored, before the exchange heard of it (absent from older servers). */
  created_at?: string | null;
  updated_at?: string | null;
}
