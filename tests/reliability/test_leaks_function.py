"""The leak scan function itself: it finds any 8-character piece, and a public token prefix is no hit."""

from __future__ import annotations

from tests.reliability.leaks import Evidence, needles, scan

TOKEN = "tw_wAkIVku2abcdefghijklmnopqrstuvwxyz0123456789"


def _one(data: bytes | str) -> Evidence:
    evidence = Evidence()
    evidence.add("haystack", data)
    return evidence


def test_every_piece_is_searched_in_utf8_and_utf16() -> None:
    secret = "Zq8v-Mn4k-Pt7x-Rw2c"
    assert len(needles([secret])) == len(secret) - 7
    assert scan(_one(f"log line ...{secret[5:13]}..."), [secret]) != []
    assert scan(_one(secret[3:11].encode("utf-16-le")), [secret]) != []
    assert scan(_one(secret[3:10]), [secret]) == []  # 7 characters are not a hit


def test_a_public_prefix_is_no_hit_but_anything_past_it_is() -> None:
    public = [TOKEN[:10]]
    # the store keeps the prefix next to a timestamp: the window across them is not a leak
    assert scan(_one(f"{TOKEN[:10]}2026-12-02 11:22:34"), [TOKEN], public) == []
    assert scan(_one(TOKEN), [TOKEN], public) != []
    assert scan(_one(TOKEN[10:18]), [TOKEN], public) != []
