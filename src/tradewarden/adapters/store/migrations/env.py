"""Alembic environment: runs on the engine handed in by `tradewarden.adapters.store.db`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from tradewarden.adapters.store.models import Base

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: use the URL from alembic.ini
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///tradewarden.db")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    context.run_migrations()
