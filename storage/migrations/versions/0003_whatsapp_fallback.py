"""sends.fallback, sends.fallback_of: a failed or undelivered send tries the next channel, once

Revision ID: 0003_whatsapp
Revises: 0003_i18n
Create Date: 2026-12-03 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003_whatsapp'
down_revision = '0003_i18n'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sends', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fallback', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('fallback_of', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.drop_constraint('uq_sends_event_trigger', type_='unique')
        batch_op.create_unique_constraint(
            'uq_sends_event_trigger_fallback', ['event_pk', 'trigger', 'fallback']
        )
        batch_op.create_unique_constraint('uq_sends_fallback_of', ['fallback_of'])


def downgrade() -> None:
    with op.batch_alter_table('sends', schema=None) as batch_op:
        batch_op.drop_constraint('uq_sends_fallback_of', type_='unique')
        batch_op.drop_constraint('uq_sends_event_trigger_fallback', type_='unique')
        batch_op.create_unique_constraint('uq_sends_event_trigger', ['event_pk', 'trigger'])
        batch_op.drop_column('fallback_of')
        batch_op.drop_column('fallback')
