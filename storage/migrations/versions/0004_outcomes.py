"""outcomes: kept behaviour events, each send's follow-up per outcome, their rollups, churn

Revision ID: 0004_outcomes
Revises: 0004_digest_rollups
Create Date: 2026-12-03 15:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.models


revision = '0004_outcomes'
down_revision = '0004_digest_rollups'
branch_labels = None
depends_on = None

TIME = storage.models.UTCDateTime(timezone=True)
TEXT = sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    op.create_table(
        'outcome_events',
        sa.Column('event_pk', TEXT, nullable=False),
        sa.Column('contact_id', TEXT, nullable=False),
        sa.Column('type', TEXT, nullable=False),
        sa.Column('occurred_at', TIME, nullable=False),
        sa.PrimaryKeyConstraint('event_pk'),
    )
    op.create_index('ix_outcome_events_contact', 'outcome_events', ['contact_id', 'type', 'occurred_at'])
    op.create_table(
        'outcome_links',
        sa.Column('send_id', TEXT, nullable=False),
        sa.Column('outcome', TEXT, nullable=False),
        sa.Column('survey', TEXT, nullable=False),
        sa.Column('contact_id', TEXT, nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('since', TIME, nullable=False),
        sa.Column('until', TIME, nullable=False),
        sa.Column('first_at', TIME, nullable=True),
        sa.PrimaryKeyConstraint('send_id', 'outcome'),
    )
    op.create_index('ix_outcome_links_contact', 'outcome_links', ['contact_id', 'outcome', 'since'])
    op.create_index(
        'ix_outcome_links_cohort', 'outcome_links', ['outcome', 'survey', 'since', 'score', 'first_at']
    )
    op.create_table(
        'outcome_rollups',
        sa.Column('outcome', TEXT, nullable=False),
        sa.Column('survey', TEXT, nullable=False),
        sa.Column('day', TIME, nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('outcome', 'survey', 'day', 'score'),
    )
    op.create_table(
        'churn_contacts',
        sa.Column('contact_id', TEXT, nullable=False),
        sa.Column('started_at', TIME, nullable=True),
        sa.Column('churned_at', TIME, nullable=True),
        sa.PrimaryKeyConstraint('contact_id'),
    )
    op.create_index('ix_churn_contacts_times', 'churn_contacts', ['started_at', 'churned_at'])
    op.create_table(
        'outcome_definitions',
        sa.Column('name', TEXT, nullable=False),
        sa.Column('definition', TEXT, nullable=False),
        sa.Column('built_at', TIME, nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('outcome_definitions')
    op.drop_index('ix_churn_contacts_times', table_name='churn_contacts')
    op.drop_table('churn_contacts')
    op.drop_table('outcome_rollups')
    op.drop_index('ix_outcome_links_cohort', table_name='outcome_links')
    op.drop_index('ix_outcome_links_contact', table_name='outcome_links')
    op.drop_table('outcome_links')
    op.drop_index('ix_outcome_events_contact', table_name='outcome_events')
    op.drop_table('outcome_events')
