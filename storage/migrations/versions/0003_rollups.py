"""metric_rollups and rollup_paths: counted responses per survey, UTC hour and group

The survey-overall rollups are built here from every response already stored; group-by paths
are registered and backfilled by `surveybot run` (from the digests' `group_by`) or
`surveybot rollups rebuild`.

Revision ID: 0003_rollups
Revises: 0003_whatsapp
Create Date: 2026-12-03 12:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.models


revision = '0003_rollups'
down_revision = '0003_whatsapp'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('metric_rollups',
    sa.Column('hour', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('survey', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('grp', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Integer(), nullable=False),
    *[sa.Column(f's{k}', sa.Integer(), nullable=False) for k in range(11)],
    sa.PrimaryKeyConstraint('survey', 'path', 'hour', 'grp')
    )
    op.create_table('rollup_paths',
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('built_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('path')
    )
    from storage.rollups import rebuild_rollups

    rebuild_rollups(op.get_bind())


def downgrade() -> None:
    op.drop_table('rollup_paths')
    op.drop_table('metric_rollups')
