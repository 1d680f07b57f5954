"""TradeWarden: self-hosted trading bots on least-privilege exchange keys."""

__version__ = "0.1.0"
