"""the keys the judge and the pages filter on, as columns

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

``runs.suite`` and ``runs.selection`` (what the run meant to measure: a subset never makes other
cases missing), ``runs.baseline_commit`` / ``runs.baseline_run`` (what it is judged against when
pinned), ``results.timing_mode`` (history is compared only within one timing mode). They were read
out of the JSON ``extra`` columns on every query; the JSON keeps them for export. Filled from it here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suite", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("selection", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("baseline_commit", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("baseline_run", sa.Uuid(), nullable=True))
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timing_mode", sa.String(length=16), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            UPDATE runs SET suite = extra::jsonb #>> '{run,suite}',
                selection = CASE WHEN jsonb_typeof(extra::jsonb #> '{run,selection}') = 'array'
                                 AND jsonb_array_length(extra::jsonb #> '{run,selection}') > 0
                            THEN (extra::jsonb #> '{run,selection}')::json END,
                baseline_commit = extra::jsonb #>> '{run,baseline,commit}',
                baseline_run = (extra::jsonb #>> '{run,baseline,run}')::uuid
        """)
        op.execute("UPDATE results SET timing_mode = COALESCE(extra::jsonb #>> '{result,timing,mode}', '')")
    else:
        op.execute("""
            UPDATE runs SET suite = json_extract(extra, '$.run.suite'),
                selection = CASE WHEN json_array_length(json_extract(extra, '$.run.selection')) > 0
                            THEN json_extract(extra, '$.run.selection') END,
                baseline_commit = json_extract(extra, '$.run.baseline.commit'),
                baseline_run = replace(json_extract(extra, '$.run.baseline.run'), '-', '')
        """)
        op.execute("UPDATE results SET timing_mode = COALESCE(json_extract(extra, '$.result.timing.mode'), '')")


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("timing_mode")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("baseline_run")
        batch_op.drop_column("baseline_commit")
        batch_op.drop_column("selection")
        batch_op.drop_column("suite")
