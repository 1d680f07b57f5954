"""Request and response models of the API (they make the OpenAPI document, with examples)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Market = Literal["spot", "futures", "both"]
Scope = Literal["read", "trade", "admin"]


class HealthOut(BaseModel):
    """Liveness."""

    status: Literal["ok"]
    version: str


class CredentialsIn(BaseModel):
    """Exchange credentials in ccxt's field names; write-only, never returned."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"apiKey": "vmPUZE6mv9SD5VNH", "secret": "NhqPtmdSJYdKjVHjA7PZj4Mg"}]
        },
    )
    apiKey: SecretStr = Field(min_length=1, max_length=512)
    secret: SecretStr | None = Field(default=None, max_length=8192)
    password: SecretStr | None = Field(default=None, max_length=256)
    uid: SecretStr | None = Field(default=None, max_length=128)


class ConnectionCreate(BaseModel):
    """A new connection."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "MEXC Spot Main",
                    "exchange": "mexc",
                    "market": "spot",
                    "credentials": {"apiKey": "mx0vglExample", "secret": "example-secret-value"},
                }
            ]
        },
    )
    name: str = Field(min_length=1, max_length=64)
    exchange: str = Field(min_length=1, max_length=32)
    market: Market = "spot"
    endpoint: str | None = Field(default=None, max_length=512)
    credentials: CredentialsIn
    testnet: bool = Field(
        default=False, description="The exchange's testnet/demo account (GET /exchanges: `testnet`)"
    )
    test: bool = Field(
        default=False,
        description="Test the key before storing it; a key that fails is not stored (422 `test_failed`, "
        "the report in `test`) unless `keep_untested`. The dashboard's wizard sends true.",
    )
    keep_untested: bool = Field(default=False, description="With `test`: keep the key even if it fails.")


class CredentialsPatch(BaseModel):
    """Key fields to correct in place: only those given change (e.g. just the passphrase)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"password": "my-api-passphrase"}]}
    )
    apiKey: SecretStr | None = Field(default=None, max_length=512)
    secret: SecretStr | None = Field(default=None, max_length=8192)
    password: SecretStr | None = Field(default=None, max_length=256)
    uid: SecretStr | None = Field(default=None, max_length=128)


class ConnectionEdit(BaseModel):
    """What to change: the name, market, endpoint (null: the exchange itself), and/or key fields.

    Corrected key fields are tested first, like a rotation, and kept only if the test passes. A new market
    or endpoint makes the connection untested.
    """

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "KuCoin Main", "market": "both"}]}
    )
    name: str | None = Field(default=None, min_length=1, max_length=64)
    market: Market | None = None
    endpoint: str | None = Field(default=None, max_length=512)
    credentials: CredentialsPatch | None = None


class RotateIn(BaseModel):
    """New credentials; swapped in only if they pass the connection test."""

    model_config = ConfigDict(extra="forbid")
    credentials: CredentialsIn


class ConnectionOut(BaseModel):
    """A connection as the API shows it: the API key masked, never a secret."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "4f1c0c8e5c9a4c7e9d0b1a2b3c4d5e6f",
                    "name": "MEXC Spot Main",
                    "exchange": "mexc",
                    "market": "spot",
                    "endpoint": None,
                    "key_type": "hmac",
                    "api_key": "mx0v…e7Qa",
                    "credential_fields": ["apiKey", "secret"],
                    "status": "online",
                    "status_checked_at": "2026-11-21T09:00:00+00:00",
                    "created_at": "2026-11-21T08:59:00+00:00",
                    "updated_at": "2026-11-21T08:59:00+00:00",
                }
            ]
        }
    )
    id: str
    name: str
    exchange: str
    market: str
    endpoint: str | None
    key_type: str
    api_key: str
    credential_fields: list[str]
    status: str
    status_checked_at: datetime | None
    created_at: datetime
    updated_at: datetime
    simulated: bool = Field(
        default=False, description="Its endpoint is the simulator `tradewarden up` runs: simulated funds"
    )
    testnet: bool = Field(
        default=False,
        description="The exchange's testnet/demo account: not real funds, never in the portfolio total",
    )


class CheckOut(BaseModel):
    """One timed step of a connection test. `detail` is the English text of `detail_code` with
    `detail_params` (translate by code; `check.refused` carries the exchange's own words as `reason`)."""

    name: str
    label: str = ""
    ok: bool
    ms: float
    detail: str
    detail_code: str = "check.none"
    detail_params: dict[str, str] = Field(default_factory=dict)


class NoteOut(BaseModel):
    """A warning's sentence, appended to the English `remedy`."""

    warning: str
    code: str
    params: dict[str, str]
    text: str


class PermissionsOut(BaseModel):
    """What the key may do: true, false, or null where the exchange does not say."""

    read: bool | None
    spot_trade: bool | None
    futures_trade: bool | None
    withdraw: bool | None
    ip_restricted: bool | None


class TestResultOut(BaseModel):
    """The result of a connection test (DESIGN.md's `connections test --json`)."""

    __test__ = False  # not a pytest test class
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "MEXC Spot Main",
                    "exchange": "mexc",
                    "ok": True,
                    "status": "online",
                    "warnings": [],
                    "permissions": {
                        "read": True,
                        "spot_trade": True,
                        "futures_trade": False,
                        "withdraw": False,
                        "ip_restricted": True,
                    },
                    "checks": [
                        {"name": "server_time", "ok": True, "ms": 21.5, "detail": "clock offset +3 ms"}
                    ],
                    "message": "MEXC accepted the key.",
                    "remedy": "",
                }
            ]
        }
    )
    name: str
    exchange: str
    ok: bool
    status: str
    warnings: list[str]
    permissions: PermissionsOut
    checks: list[CheckOut]
    message: str
    remedy: str
    code: str | None = Field(default=None, description="The exchange's own error code, when it gave one")
    message_code: str | None = Field(default=None, description="`message` as a code (translate with params)")
    message_params: dict[str, str] = Field(default_factory=dict)
    remedy_code: str | None = Field(
        default=None, description="The status's remedy as a code; the warnings' sentences are in `notes`"
    )
    remedy_params: dict[str, str] = Field(default_factory=dict)
    notes: list[NoteOut] = Field(default_factory=list)


class HistoryItemOut(TestResultOut):
    """A stored test result."""

    checked_at: datetime


class RotateOut(BaseModel):
    """Whether the new credentials were swapped in, and their test."""

    rotated: bool
    test: TestResultOut


class CreatedOut(ConnectionOut):
    """A new connection, and its key's test when one was asked for."""

    test: TestResultOut | None = None


class EditOut(BaseModel):
    """The connection after the edit; with corrected key fields, whether they passed and their test."""

    connection: ConnectionOut
    rotated: bool | None = None
    test: TestResultOut | None = None


class GuideOut(BaseModel):
    """How to create a least-privilege key on the exchange, in our words."""

    where: str
    enable: list[str]
    disable: list[str]
    ip_whitelist: str
    notes: list[str]


class ExchangeOut(BaseModel):
    """A supported exchange."""

    id: str
    name: str
    tier: int
    markets: list[str]
    credentials: list[str]
    key_types: list[str]
    ip_whitelist: bool
    permission_check: bool
    setting_names: dict[str, str]
    guide: GuideOut
    simulator: bool = Field(default=False, description="The built-in simulator plays this exchange")
    testnet: str | None = Field(
        default=None, description="The testnet/demo environment a `testnet` connection reaches, or null"
    )


class AuditEventOut(BaseModel):
    """One audit event."""

    id: int
    ts: datetime
    kind: str
    actor: str
    connection_id: str | None
    connection_name: str | None
    detail: dict[str, object]
    message: str = Field(default="", description="The event as an English sentence")
    message_code: str = Field(default="", description="`message` as a code: audit.<kind> (audit.other)")
    message_params: dict[str, str] = Field(default_factory=dict, description="The code's params, as text")


class AuditPageOut(BaseModel):
    """A page of audit events, newest first."""

    items: list[AuditEventOut]
    page: int
    page_size: int
    total: int


class TokenCreateIn(BaseModel):
    """A new API token."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "grafana", "scope": "read"}]}
    )
    name: str = Field(min_length=1, max_length=64)
    scope: Scope = "read"


class TokenOut(BaseModel):
    """A token as listed: never the token itself."""

    id: str
    name: str
    scope: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    """A new token: `token` is shown this once."""

    token: str


class LoginIn(BaseModel):
    """Log in to the dashboard with an API token."""

    model_config = ConfigDict(extra="forbid")
    token: SecretStr = Field(min_length=1, max_length=200)


class MeOut(BaseModel):
    """The logged-in principal, and the CSRF token for state-changing requests (sessions only)."""

    token_name: str
    scope: str
    via: str
    csrf_token: str | None = None


class ServerInfoOut(BaseModel):
    """What the dashboard needs to guide the user through the IP whitelist and the simulator."""

    version: str
    outbound_address: str | None = Field(description="This server's address on its outbound interface")
    client_address: str = Field(description="The caller's address as this server sees it")
    note: str
    public_address: str | None = Field(
        default=None, description="The address exchanges see (the one to whitelist); null: not determined"
    )
    public_address_source: str = Field(default="off", description="lookup | off | failed")
    public_address_note: str = Field(default="", description="Where it came from, or how to find it")
    public_address_note_code: str = Field(
        default="", description="`public_address_note` as a code: ip.found | ip.off | ip.failed"
    )
    simulator_url: str | None = Field(
        default=None, description="The simulator `tradewarden up` runs (the endpoint for simulator keys)"
    )
