"""adapters vault layer."""
