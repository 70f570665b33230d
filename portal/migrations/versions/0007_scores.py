"""Quarterly outlet scores: inspection scores, deduction settings, sub-branch management scores.

Revision ID: 0007_scores
Revises: 0006_honours
Create Date: 2026-11-26

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0007_scores'
down_revision = '0006_honours'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
