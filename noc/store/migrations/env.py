"""Alembic environment: migrations always run on a connection handed in by noc.store.db."""

from alembic import context

import noc.store.identity_tables  # noqa: F401  (registers its tables on Base.metadata)
import noc.store.tables_calls  # noqa: F401  (likewise)
import noc.store.tables_kpi  # noqa: F401  (likewise)
from noc.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations with `noc db upgrade` (noc.store.db.upgrade), not bare alembic"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
