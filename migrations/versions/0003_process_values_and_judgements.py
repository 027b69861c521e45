"""per-process values and each result's judgement

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

``results.process_values``: one value (the median) per worker process of the result; NULL for
results stored before, which were one process each (the judge reads their median). ``results.judgement``:
what the judge said of the result when it was stored (same / not judged and why / a change).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("process_values", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("judgement", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("judgement")
        batch_op.drop_column("process_values")
