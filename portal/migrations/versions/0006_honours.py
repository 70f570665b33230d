"""Honours board: titles awarded through nominations and approvals.

Revision ID: 0006_honours
Revises: 0005_ledger
Create Date: 2026-11-26

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0006_honours'
down_revision = '0005_ledger'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
