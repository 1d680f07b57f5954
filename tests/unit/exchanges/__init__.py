"""Unit tests for the pure exchange-knowledge modules."""
