"""web sessions kept by the server, so sign-out and token revocation end them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

``web_sessions``: one row per browser sign-in, keyed by the SHA-256 of the secret its cookie holds,
with the hash of the token it signed in with; ``ended_at`` is set by sign-out.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=80), nullable=False),
        sa.Column("writer", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )


def downgrade() -> None:
    op.drop_table("web_sessions")
