"""GET /metrics on a real server: read scope, Prometheus text format, route templates, store gauges."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.api._serverfixture import TwServer, running_server
from tests.integration.simtools import SimAdmin
from tradewarden.sim import ThreadedSim


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TwServer]:
    """A fresh server."""
    with running_server(tmp_path / "home") as running:
        yield running


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_need_a_token(server: TwServer) -> None:
    """No token or an unknown one: 401 in the API's error shape; nothing about the server leaks."""
    with server.client() as client:
        anonymous = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer tw_not-a-token"})
    for response in (anonymous, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert "tradewarden_" not in response.text


def test_metrics_count_routes_by_template_and_connections_by_status(
    server: TwServer, sim_admin: SimAdmin, threaded_sim: ThreadedSim
) -> None:
    """A read token scrapes; requests are labelled by route template, connections counted by status."""
    key = sim_admin.key("binance", ["read", "spot_trade"])
    view = server.add_connection("Metrics Binance", "binance", key, threaded_sim.url)
    with server.client(server.read_token) as client:
        assert client.get(f"/api/v1/connections/{view.id}").status_code == 200
        assert client.get(f"/api/v1/connections/{view.id}").status_code == 200
        assert client.get("/api/v1/no-such-thing/12345").status_code == 404
        response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)

    route = "/api/v1/connections/{connection:path}"
    requests = ("tradewarden_http_requests_total", (("method", "GET"), ("route", route), ("status", "200")))
    assert samples[requests] == 2.0
    latency = ("tradewarden_http_request_duration_seconds_count", (("method", "GET"), ("route", route)))
    assert samples[latency] == 2.0
    not_found = [
        dict(labels)["route"] for (name, labels), _ in samples.items() if ("status", "404") in labels
    ]
    assert not_found and set(not_found) <= {"<unmatched>", "/api/v1/{path:path}"}  # no catch-all, or one
    assert view.id not in response.text and "12345" not in response.text  # templates, never raw paths

    assert samples[("tradewarden_connections", (("status", "untested"),))] == 1.0
    assert samples[("tradewarden_connections", (("status", "online"),))] == 0.0
    assert samples[("tradewarden_audit_events_total", (("kind", "connection.added"),))] == 1.0
    assert samples[("tradewarden_audit_events_total", (("kind", "connection.shown"),))] == 2.0
    assert samples[("tradewarden_websocket_subscribers", ())] == 0.0


def test_metrics_registry_is_per_app(tmp_path: Path) -> None:
    """Two servers in one process keep separate counts (no global registry)."""
    with running_server(tmp_path / "a") as first, running_server(tmp_path / "b") as second:
        with first.client(first.read_token) as client:
            for _ in range(3):
                client.get("/api/v1/health")
            first_text = client.get("/metrics").text
        with second.client(second.read_token) as client:
            second_text = client.get("/metrics").text
    health = (
        "tradewarden_http_requests_total",
        (("method", "GET"), ("route", "/api/v1/health"), ("status", "200")),
    )
    assert _samples(first_text)[health] == 3.0
    assert health not in _samples(second_text)
