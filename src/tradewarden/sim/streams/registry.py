"""Declaring WebSocket endpoints on a venue: `@stream(host, path)`, like REST's `@route`."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .conn import StreamConn

StreamHandler = Callable[[Any, "StreamConn"], Awaitable[None]]
S = TypeVar("S", bound=StreamHandler)
BoundStream = Callable[["StreamConn"], Awaitable[None]]


@dataclass(frozen=True)
class StreamSpec:
    """A declared stream endpoint: hosts, path (with {name} placeholders) and the handler's name."""

    hosts: tuple[str, ...]
    path: str
    attr: str
    pattern: re.Pattern[str]


def stream(hosts: str | tuple[str, ...], path: str) -> Callable[[S], S]:
    """Declare `async def h(self, conn: StreamConn) -> None`; the connection closes when it returns."""

    def deco(fn: S) -> S:
        specs: list[tuple[tuple[str, ...], str]] = list(getattr(fn, "__sim_streams__", []))
        specs.append(((hosts,) if isinstance(hosts, str) else tuple(hosts), path))
        fn.__sim_streams__ = specs  # type: ignore[attr-defined]
        return fn

    return deco


def _compile(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


class StreamRoutes:
    """Every `@stream` of one venue object, matched by (host, path)."""

    def __init__(self, venue: object) -> None:
        self._routes: list[tuple[StreamSpec, BoundStream]] = []
        seen: set[str] = set()
        for cls in type(venue).__mro__:
            for attr, fn in vars(cls).items():
                if attr in seen:
                    continue
                specs = getattr(fn, "__sim_streams__", None)
                if not specs:
                    continue
                seen.add(attr)
                for hosts, path in specs:
                    self._routes.append((StreamSpec(hosts, path, attr, _compile(path)), getattr(venue, attr)))

    def __bool__(self) -> bool:
        return bool(self._routes)

    def hosts(self) -> set[str]:
        """Every host a stream is declared on."""
        return {h for spec, _ in self._routes for h in spec.hosts}

    def match(self, host: str, path: str) -> tuple[StreamSpec, BoundStream, dict[str, str]] | None:
        """The handler for an upgrade request, with its path parameters."""
        for spec, handler in self._routes:
            if host in spec.hosts:
                m = spec.pattern.match(path)
                if m:
                    return spec, handler, m.groupdict()
        return None

    def specs(self) -> list[StreamSpec]:
        """Every declared stream endpoint (docs and tests)."""
        return [spec for spec, _ in self._routes]
