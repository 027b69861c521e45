"""alert outbox, run content digests

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

``runs.alerted_at``: when the run's alerts were queued (NULL while a confirmation may still change
its findings); runs stored before are marked alerted at their ingest time.
``alert_deliveries.next_attempt_at``: when a pending delivery is due again after a failed try.
Delivery status gains ``pending`` (queued, not yet sent) and ``sending`` (claimed by a sender).
``runs.digest``: SHA-256 of the stored document's content; a run id re-sent with other content is a
conflict (NULL for runs stored before: a re-send of those stays idempotent).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alerted_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
    op.execute("UPDATE runs SET alerted_at = ingested_at")
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE alert_deliveries SET status = 'failed' WHERE status IN ('pending', 'sending')")
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("digest")
        batch_op.drop_column("alerted_at")
