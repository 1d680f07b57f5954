"""The HTTP API against a real uvicorn server on loopback."""
