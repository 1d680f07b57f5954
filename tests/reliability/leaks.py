"""The leak scan: every place a secret could end up, searched for every 8-character piece of it.

`Evidence` gathers haystacks under names (files, directories, captured responses, frames, CLI output);
`scan` returns each hit as (source, piece). Scenarios add what they produce; bots and notifications add
their own sources (notification bodies, bot logs) the same way, and their secrets to the needles.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.helpers import substrings

WIDTH = 8  # pieces this long are searched for (shorter ones occur by chance in any large file)


@dataclass(frozen=True)
class Hit:
    """One piece of one secret found in one source."""

    source: str
    piece: str


@dataclass
class Evidence:
    """Named haystacks."""

    blobs: dict[str, bytes] = field(default_factory=dict)

    def add(self, name: str, data: bytes | str) -> None:
        """Add one haystack (a name already used gets a suffix)."""
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        key, n = name, 1
        while key in self.blobs:
            n += 1
            key = f"{name}#{n}"
        self.blobs[key] = raw

    def add_file(self, path: Path, name: str | None = None) -> None:
        """Add a file's bytes, if it exists now (a SQLite sidecar may come and go)."""
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            self.add(name or str(path), path.read_bytes())

    def add_tree(self, root: Path) -> int:
        """Add every file under `root` (the data dir: database, WAL, SHM, logs, exports); how many."""
        files = [p for p in sorted(root.rglob("*")) if p.is_file()] if root.is_dir() else []
        for path in files:
            self.add_file(path)
        return len(files)

    def add_temp_files(self, since: float, prefix: str = "tradewarden") -> int:
        """Add files in the temporary directory named `prefix*` changed since `since` (crash logs)."""
        tmp = Path(tempfile.gettempdir())
        found = [p for p in tmp.glob(f"{prefix}*") if p.is_file() and p.stat().st_mtime >= since]
        for path in found:
            self.add_file(path)
        return len(found)

    def add_many(self, name: str, items: Iterable[bytes | str]) -> None:
        """Add a sequence of captures (responses, frames) as one haystack."""
        self.add(name, b"\n".join(i.encode() if isinstance(i, str) else i for i in items))


def needles(secrets: Iterable[str]) -> set[str]:
    """Every WIDTH-character piece of every secret."""
    pieces: set[str] = set()
    for secret in secrets:
        if secret:
            pieces |= substrings(secret, WIDTH)
    return pieces


def scan(evidence: Evidence, secrets: Iterable[str], public: Iterable[str] = ()) -> list[Hit]:
    """Every (source, piece) where a piece of a secret occurs, also as UTF-16 (SQLite may store text so).

    `public`: parts of secrets shown on purpose (an API token's 10-character prefix, by which people
    tell tokens apart). They are blanked in each haystack before the search, so a prefix stored next to
    other text (a timestamp) is no hit, while any further character of the secret still is.
    """
    pieces = needles(secrets)
    shown = [p for p in public if p]
    hits: list[Hit] = []
    for source, blob in evidence.blobs.items():
        for prefix in shown:
            for raw in (prefix.encode(), prefix.encode("utf-16-le")):
                blob = blob.replace(raw, b"\0" * len(raw))
        for piece in pieces:
            if piece.encode() in blob or piece.encode("utf-16-le") in blob:
                hits.append(Hit(source, piece))
    return hits
