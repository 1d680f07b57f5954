"""adapters exchanges layer."""
