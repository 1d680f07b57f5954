"""services connections layer."""
