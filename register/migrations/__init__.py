"""Alembic migrations of the register schema (run with `gate db upgrade`)."""
