"""Prometheus metrics at `/metrics` (app root, read scope): HTTP traffic, connections, audit, stream.

Each app gets its own CollectorRegistry, so two apps in one process (tests, or a future multi-tenant
setup) never mix their numbers and nothing lands in prometheus_client's global registry.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.routing import Mount, replace_params
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradewarden.api.auth import ReadPrincipal
from tradewarden.api.errors import ERROR_RESPONSES
from tradewarden.api.state import ServerState
from tradewarden.services.store_counts import audit_events_by_kind, connections_by_status

router = APIRouter(tags=["metrics"])
UNMATCHED = "<unmatched>"  # one label for every unknown path: raw paths would explode the series count
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # others: "OTHER"


class StoreCollector(Collector):
    """Connections by status and audit events by kind, counted in the store at scrape time."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        """One query per family, run when Prometheus scrapes."""
        by_status = connections_by_status(self.state.app.store)
        by_kind = audit_events_by_kind(self.state.app.store)
        connections = GaugeMetricFamily(
            "tradewarden_connections", "Exchange connections by status", labels=["status"]
        )
        for status in sorted(by_status):
            connections.add_metric([status], by_status[status])
        yield connections
        events = CounterMetricFamily(
            "tradewarden_audit_events", "Audit events recorded, by kind", labels=["kind"]
        )
        for kind in sorted(by_kind):
            events.add_metric([kind], by_kind[kind])
        yield events


class MarketCollector(Collector):
    """The market hub's figures at scrape time: upstream requests, cache hits, coalesced waits, rate
    budgets (weight used in the window vs the exchange's limit), rate-limit answers, stream reconnects.

    Names only exchanges, kinds and connection ids: no key, secret or URL reaches /metrics.
    """

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        """Nothing while no hub runs; otherwise one family per figure."""
        hub = self.state.market
        if hub is None:
            return
        snap = hub.snapshot()
        per_kind = ["exchange", "kind"]
        upstream = CounterMetricFamily(
            "tradewarden_market_upstream_requests", "Market-data calls sent upstream", labels=per_kind
        )
        hits = CounterMetricFamily("tradewarden_market_cache_hits", "Answered from cache", labels=per_kind)
        coalesced = CounterMetricFamily(
            "tradewarden_market_coalesced_waits", "Waited on an identical call in flight", labels=per_kind
        )
        for row in snap.kinds:
            upstream.add_metric([row.exchange, row.kind], row.upstream)
            hits.add_metric([row.exchange, row.kind], row.cache_hits)
            coalesced.add_metric([row.exchange, row.kind], row.coalesced)
        yield from (upstream, hits, coalesced)
        per_budget = ["budget", "scope"]
        families = {
            "used": GaugeMetricFamily(
                "tradewarden_market_weight_used", "Cost spent in the rolling window", labels=per_budget
            ),
            "limit": GaugeMetricFamily(
                "tradewarden_market_weight_limit", "The exchange's limit per window", labels=per_budget
            ),
            "capacity": GaugeMetricFamily(
                "tradewarden_market_weight_capacity",
                "What the hub spends at most per window",
                labels=per_budget,
            ),
            "peak": GaugeMetricFamily(
                "tradewarden_market_weight_peak", "Most cost ever in one window", labels=per_budget
            ),
        }
        http = CounterMetricFamily(
            "tradewarden_market_budget_requests", "HTTP requests through the budget", labels=per_budget
        )
        pauses = CounterMetricFamily(
            "tradewarden_market_budget_pauses", "Pauses on a 429/418 or Retry-After", labels=per_budget
        )
        for budget in snap.budgets:
            labels = [budget.name, budget.scope]
            families["used"].add_metric(labels, budget.used)
            families["limit"].add_metric(labels, budget.limit)
            families["capacity"].add_metric(labels, budget.capacity)
            families["peak"].add_metric(labels, budget.peak_used)
            http.add_metric(labels, budget.requests)
            pauses.add_metric(labels, budget.pauses)
        yield from (*families.values(), http, pauses)
        limited = CounterMetricFamily(
            "tradewarden_market_rate_limited", "429/418 answers from the exchange", labels=["exchange"]
        )
        reconnects = CounterMetricFamily(
            "tradewarden_market_stream_reconnects", "Feeds recovered after failing", labels=["exchange"]
        )
        for exchange, count in snap.rate_limited.items():
            limited.add_metric([exchange], count)
        for exchange, count in snap.stream_reconnects.items():
            reconnects.add_metric([exchange], count)
        yield from (limited, reconnects)
        streams = CounterMetricFamily(
            "tradewarden_market_stream_events",
            "Ticker stream frames, ticker() answers from a stream, REST fallbacks while a stream was "
            "subscribed, user-data streams watched again",
            labels=["exchange", "event"],
        )
        for exchange, figures in snap.streams.items():
            for event, count in figures.items():
                streams.add_metric([exchange, event], count)
        yield streams


class Metrics:
    """One app's registry and the instruments the middleware and the stream update."""

    def __init__(self, state: ServerState) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "tradewarden_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tradewarden_http_request_duration_seconds",
            "HTTP request latency by method and route template, until the response is sent",
            ["method", "route"],
            registry=self.registry,
        )
        self.stream_subscribers = Gauge(
            "tradewarden_websocket_subscribers",
            "Clients connected to the live stream",
            registry=self.registry,
        )
        self.registry.register(StoreCollector(state))
        self.registry.register(MarketCollector(state))

    def render(self) -> bytes:
        """The text exposition format, version 0.0.4."""
        return generate_latest(self.registry)


def route_label(scope: Scope) -> str:
    """The matched route's full path template (`/api/v1/connections/{connection}`), never the raw path."""
    route = scope.get("route")
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    template = getattr(route, "path", None)
    path_format = getattr(route, "path_format", None)
    if not isinstance(template, str) or not isinstance(path_format, str):
        return UNMATCHED
    # FastAPI (0.137+) keeps included routers nested: the route knows its path below the include prefix
    # only. Filling the template with this request's parameters gives the tail of the path; what precedes
    # that tail is the (static) prefix.
    try:
        tail, _ = replace_params(
            path_format, getattr(route, "param_convertors", {}), dict(scope.get("path_params", {}))
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return template
    path = str(scope.get("path", ""))
    return path.removesuffix(tail) + template if path.endswith(tail) else template


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (pure ASGI: streaming stays intact)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; record method, template, status and duration when it is done."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # The router wrote the matched route into this same scope dict on its way through.
            method = str(scope.get("method", ""))
            route, method = route_label(scope), method if method in METHODS else "OTHER"
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)


def of(app: object) -> Metrics | None:
    """The metrics of an app (a FastAPI or Starlette instance), None where `install` was not called."""
    metrics = getattr(getattr(app, "state", None), "metrics", None)
    return metrics if isinstance(metrics, Metrics) else None


def install(app: FastAPI, state: ServerState) -> Metrics:
    """Give `app` its registry, the request middleware and the `/metrics` route at the root."""
    metrics = Metrics(state)
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(router)
    return metrics


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={**ERROR_RESPONSES, 200: {"content": {CONTENT_TYPE_PLAIN_0_0_4: {}}, "description": "Metrics"}},
)
def get_metrics(request: Request, _: ReadPrincipal) -> Response:
    """HTTP requests and latency by route, connections by status, audit events by kind, stream clients."""
    metrics = of(request.app)
    body = metrics.render() if metrics is not None else b""  # route mounted without install(): empty
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
