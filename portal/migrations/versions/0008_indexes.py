"""Indexes for every read of a growing table on a hot path: the rating's burst flag, the
low-rating alerts, the open appeals, the pending proposals, the confirmed star levels of a
quarter, the history of one record. The index led by the phone's random key goes: the repeat
rule reads the teller's last minutes through the teller's index.

Revision ID: 0008_indexes
Revises: 0007_scores
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_indexes'
down_revision = '0007_scores'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_client_key')
        collected = sa.text("ip IS NOT NULL")
        batch_op.create_index('ix_rating_ip_time', ['ip', 'rated_at'], unique=False,
                              sqlite_where=collected, postgresql_where=collected)
        low = sa.text("stars <= 2")
        batch_op.create_index('ix_rating_low', ['outlet_id', 'local_date'], unique=False,
                              sqlite_where=low, postgresql_where=low)
    with op.batch_alter_table('rating_review', schema=None) as batch_op:
        batch_op.create_index('ix_rating_review_action_rating', ['action', 'rating_id'],
                              unique=False)
    with op.batch_alter_table('star_level', schema=None) as batch_op:
        batch_op.create_index('ix_star_level_quarter_confirmed', ['quarter', 'confirmed'],
                              unique=False)
    with op.batch_alter_table('points_proposal', schema=None) as batch_op:
        batch_op.create_index('ix_points_proposal_status_created', ['status', 'created_at'],
                              unique=False)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_object', ['object_type', 'object_id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_object')
    with op.batch_alter_table('points_proposal', schema=None) as batch_op:
        batch_op.drop_index('ix_points_proposal_status_created')
    with op.batch_alter_table('star_level', schema=None) as batch_op:
        batch_op.drop_index('ix_star_level_quarter_confirmed')
    with op.batch_alter_table('rating_review', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_review_action_rating')
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_low')
        batch_op.drop_index('ix_rating_ip_time')
        batch_op.create_index('ix_rating_client_key', ['client_key'], unique=False)
