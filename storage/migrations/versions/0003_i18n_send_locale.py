"""sends.locale: the language a send's texts went out in

Revision ID: 0003_i18n
Revises: 0003_outbox
Create Date: 2026-12-03 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003_i18n'
down_revision = '0003_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sends', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sends', schema=None) as batch_op:
        batch_op.drop_column('locale')
