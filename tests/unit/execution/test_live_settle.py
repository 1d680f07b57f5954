"""How long the live executor waits before it may trust a lookup that found nothing."""

from __future__ import annotations


def test_settle_time_outlasts_the_receive_window() -> None:
    import ccxt

    from tradewarden.adapters.execution.live import DEFAULT_SETTLE_S, settle_for

    assert settle_for(ccxt.binance()) == 11.0  # ccxt sends recvWindow 10 s
    assert settle_for(ccxt.bybit()) == 6.0
    assert settle_for(ccxt.okx()) == DEFAULT_SETTLE_S  # no window sent: the default bound
