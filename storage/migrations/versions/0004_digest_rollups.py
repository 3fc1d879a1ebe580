"""send_rollups, hold_rollups, theme_rollups and rollup_themes: the rest of a digest from rollups

Send and hold rollups are built here from the sends and decisions already stored; theme keyword
sets are registered and backfilled by `surveybot run` (from the config's `themes`) or
`surveybot rollups rebuild`.

Revision ID: 0004_digest_rollups
Revises: 0003_dashboard
Create Date: 2026-12-03 15:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.models


revision = '0004_digest_rollups'
down_revision = '0003_dashboard'
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'send_rollups',
        sa.Column('hour', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('survey', _TEXT(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in (
            'sends_left', 'responded', 'first_asks', 'first_responses', 'reminders', 'reminder_responses')],
        sa.PrimaryKeyConstraint('survey', 'hour'),
    )
    op.create_table(
        'hold_rollups',
        sa.Column('hour', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('survey', _TEXT(), nullable=False),
        sa.Column('reason', _TEXT(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('survey', 'hour', 'reason'),
    )
    op.create_table(
        'theme_rollups',
        sa.Column('hour', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('survey', _TEXT(), nullable=False),
        sa.Column('metric', _TEXT(), nullable=False),
        sa.Column('theme', _TEXT(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('survey', 'hour', 'metric', 'theme', 'score'),
    )
    op.create_table(
        'rollup_themes',
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.Column('theme', _TEXT(), nullable=False),
        sa.Column('built_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('theme'),
    )
    from storage.hold_rollups import rebuild_hold_rollups
    from storage.send_rollups import rebuild_send_rollups
    from storage.theme_rollups import rebuild_theme_rollups

    bind = op.get_bind()
    rebuild_send_rollups(bind)
    rebuild_hold_rollups(bind)
    rebuild_theme_rollups(bind)  # '*' and '' tallies; theme keyword sets come with `surveybot run`


def downgrade() -> None:
    op.drop_table('rollup_themes')
    op.drop_table('theme_rollups')
    op.drop_table('hold_rollups')
    op.drop_table('send_rollups')
