"""Executors: the Executor protocol, PaperExecutor (fill model on live books), LiveExecutor (idempotent)."""
