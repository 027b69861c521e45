"""Alembic migrations of the perfci store (run through ``perfci db upgrade``)."""
