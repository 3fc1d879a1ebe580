"""responses.feed_seq: each response's place in the responses feed (GET /v1/responses)

Revision ID: 0003_exports
Revises: 0003_fleet
Create Date: 2026-12-03 12:00:00
"""
from alembic import op
import sqlalchemy as sa

from storage import feed_sql


revision = '0003_exports'
down_revision = '0003_fleet'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows already there get 0: committed long ago, they come first.
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_seq', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
        batch_op.create_index('ix_responses_feed', ['feed_seq', 'id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(feed_sql.CREATE_SEQUENCE)
        op.execute(feed_sql.CREATE_FUNCTION)
        op.execute(feed_sql.OWN_SEQUENCE)
        op.alter_column('responses', 'feed_seq', server_default=sa.text(feed_sql.COLUMN_DEFAULT))


def downgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_feed')
        batch_op.drop_column('feed_seq')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS responses_feed_next()")
