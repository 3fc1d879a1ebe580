"""sign_in_links: one-time dashboard sign-in links, kept as hashes

Revision ID: 0003_dashboard
Revises: 0003_rollups
Create Date: 2026-12-03 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.models


revision = '0003_dashboard'
down_revision = '0003_rollups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_in_links',
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    with op.batch_alter_table('sign_in_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_links_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sign_in_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_links_expires_at'))
    op.drop_table('sign_in_links')
