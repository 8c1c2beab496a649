"""Schema layer: plan and apply metadata changes to a live database (Alembic)."""
