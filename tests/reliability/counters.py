"""The reliability counters: per category, how much was tried and how much went wrong.

Tests report through `Counters.count(category, field, n)`; the plugin (conftest.py) prints the table at
the end of the run and fails the session when any of the MUST_BE_ZERO fields is non-zero, whatever the
tests themselves asserted. A new area (bots, notifications) only needs new category names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

TRIED_FIELDS = ("cases", "faults", "kills", "fuzzed")
MUST_BE_ZERO = ("duplicates", "orders_lost", "secrets_leaked", "http_5xx", "half_written")
FIELDS = TRIED_FIELDS + MUST_BE_ZERO
HEADINGS = {
    "cases": "cases tried",
    "faults": "faults injected",
    "kills": "kills",
    "fuzzed": "inputs fuzzed",
    "duplicates": "duplicates found",
    "orders_lost": "orders lost",
    "secrets_leaked": "secrets leaked",
    "http_5xx": "5xx returned",
    "half_written": "rows half-written",
}


@dataclass
class Counters:
    """Counts per (category, field); `evidence` keeps a line per non-zero bad count for the report."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)

    def count(self, category: str, field_name: str, n: int = 1, why: str = "") -> None:
        """Add `n` to one field of one category (field names: FIELDS)."""
        if field_name not in FIELDS:
            raise ValueError(f"unknown reliability field {field_name!r}; one of {FIELDS}")
        if n < 0:
            raise ValueError("counts only grow")
        self.counts.setdefault(category, Counter())[field_name] += n
        if n and field_name in MUST_BE_ZERO:
            self.evidence.append(f"{category}: {n} {HEADINGS[field_name]}" + (f" ({why})" if why else ""))

    def export(self) -> dict[str, Any]:
        """The counts and evidence as plain data (a pytest-xdist worker sends them to the controller)."""
        return {"counts": {c: dict(n) for c, n in self.counts.items()}, "evidence": list(self.evidence)}

    def merge(self, exported: dict[str, Any] | None) -> None:
        """Add another process's `export()` to these counts."""
        if not exported:
            return
        for category, counts in exported["counts"].items():
            self.counts.setdefault(category, Counter()).update(counts)
        self.evidence.extend(exported["evidence"])

    def failures(self) -> list[str]:
        """One line per non-zero must-be-zero field (empty: the run held)."""
        return [
            f"{category}: {HEADINGS[name]} = {counts[name]}"
            for category, counts in sorted(self.counts.items())
            for name in MUST_BE_ZERO
            if counts[name]
        ]

    def table(self) -> list[str]:
        """The summary table as text lines, a total row last."""
        headings = [HEADINGS[f] for f in FIELDS]
        width = max([len("category"), len("total"), *(len(c) for c in self.counts)])
        lines = ["category".ljust(width) + "  " + "  ".join(headings)]
        total: Counter[str] = Counter()
        for category in sorted(self.counts):
            counts = self.counts[category]
            total.update(counts)
            lines.append(self._row(category, counts, width, headings))
        lines.append(self._row("total", total, width, headings))
        return lines

    @staticmethod
    def _row(name: str, counts: Counter[str], width: int, headings: list[str]) -> str:
        cells = [str(counts[f]).rjust(len(h)) for f, h in zip(FIELDS, headings, strict=True)]
        return name.ljust(width) + "  " + "  ".join(cells)


COUNTERS = Counters()  # one per pytest process: the plugin prints and judges this one
