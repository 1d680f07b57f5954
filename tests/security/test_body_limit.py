"""Request bodies over the limit are refused (413, the API's error shape) while they stream in: a declared
Content-Length before any body byte is read, a chunked body once it passes the limit. Real uvicorn on
127.0.0.1; the client speaks raw HTTP/1.1 so it can count what it managed to send.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.api.conftest import ApiServer, running_server

HUGE = 100 * 1024 * 1024  # what the attacker means to send
CHUNK = 64 * 1024
SOCKET_TIMEOUT_S = 20.0
# What may be in flight when the refusal arrives: the server's socket receive buffer (tcp_rmem max, 6 MiB
# by default on Linux) plus the client's small send buffer. A server reading the whole body lets all of
# HUGE through before it answers.
IN_FLIGHT_SLACK = 16 * 1024 * 1024


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    """A fresh real server (the default limit: 1 MiB)."""
    with running_server(tmp_path / "home") as running:
        yield running


def _connect(server: ApiServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)
    sock.settimeout(SOCKET_TIMEOUT_S)
    sock.connect((host, int(port)))
    return sock


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one HTTP/1.1 response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        assert part, f"connection closed before a response: {data!r}"
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        part = sock.recv(65536)
        assert part, "connection closed inside the response body"
        body += part
    return status, headers, body


def _assert_413(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 413, body
    error = json.loads(body)["error"]
    assert error["code"] == "payload_too_large" and str(1024 * 1024) in error["message"]
    assert headers.get("connection") == "close"


@pytest.mark.attack("huge request body")
def test_a_declared_huge_body_is_refused_before_it_is_sent(server: ApiServer) -> None:
    """Content-Length: 100 MB on the unauthenticated login: 413 at once, without a body byte sent."""
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {HUGE}\r\n\r\n".encode()
        )
        _assert_413(*_read_response(sock))


@pytest.mark.attack("huge request body")
def test_a_chunked_huge_body_is_refused_after_the_limit(server: ApiServer) -> None:
    """Chunked, no Content-Length: the server answers 413 long before 100 MB have gone out."""
    sent = 0
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        frame = f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
        answered = False
        while sent < HUGE:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:  # the server has answered: stop sending
                answered = True
                break
            try:
                sock.sendall(frame)
            except OSError:  # refused and closed while we were still sending
                answered = True
                break
            sent += CHUNK
        assert answered, "the server read the whole 100 MB body"
        assert sent <= 1024 * 1024 + IN_FLIGHT_SLACK, sent
        _assert_413(*_read_response(sock))
    # The server is unharmed and still answers.
    assert httpx.get(f"{server.url}/api/v1/health", trust_env=False).status_code == 200


@pytest.mark.attack("huge request body")
def test_bodies_within_the_limit_still_work(server: ApiServer) -> None:
    """A body just under the limit reaches the route (422 for the unknown field, not 413)."""
    padding = "p" * (1024 * 1024 - 200)
    response = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"token": "tw_x", "pad": padding}, trust_env=False
    )
    assert response.status_code in (401, 422), response.text
