"""Quarterly outlet scores: inspection scores, deduction settings, sub-branch management scores.

Revision ID: 0007_scores
Revises: 0006_honours
Create Date: 2026-11-26

"""
import sqlalchemy as sa
from alembic import op

from portal.append_only import drop_append_only, make_append_only


# revision identifiers, used by Alembic.
revision = '0007_scores'
down_revision = '0006_honours'
branch_labels = None
depends_on = None


def _scored(column: str, low: int, high: int) -> str:
    return f"{column} IS NULL OR ({column} >= {low} AND {column} <= {high})"


def upgrade():
    op.create_table('score_inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('mystery', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('offsite', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('onsite', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(quarter) = 6', name=op.f('ck_score_inspection_quarter')),
    sa.CheckConstraint(_scored('mystery', 0, 100), name=op.f('ck_score_inspection_mystery')),
    sa.CheckConstraint(_scored('offsite', 0, 100), name=op.f('ck_score_inspection_offsite')),
    sa.CheckConstraint(_scored('onsite', 0, 100), name=op.f('ck_score_inspection_onsite')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['person.id'], name=op.f('fk_score_inspection_changed_by_id_person')),
    sa.ForeignKeyConstraint(['outlet_id'], ['org_unit.id'], name=op.f('fk_score_inspection_outlet_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_inspection')),
    sa.UniqueConstraint('outlet_id', 'quarter', name='uq_score_inspection_outlet_quarter')
    )
    with op.batch_alter_table('score_inspection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_inspection_quarter'), ['quarter'], unique=False)

    op.create_table('score_subbranch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subbranch_id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('management', sa.Numeric(precision=4, scale=1), nullable=True),
    sa.Column('innovation', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('award', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(quarter) = 6', name=op.f('ck_score_subbranch_quarter')),
    sa.CheckConstraint(_scored('management', 0, 100), name=op.f('ck_score_subbranch_management')),
    sa.CheckConstraint('innovation >= 0 AND innovation <= 10', name=op.f('ck_score_subbranch_innovation')),
    sa.CheckConstraint('award >= 0 AND award <= 10', name=op.f('ck_score_subbranch_award')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['person.id'], name=op.f('fk_score_subbranch_changed_by_id_person')),
    sa.ForeignKeyConstraint(['subbranch_id'], ['org_unit.id'], name=op.f('fk_score_subbranch_subbranch_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_subbranch')),
    sa.UniqueConstraint('subbranch_id', 'quarter', name='uq_score_subbranch_subbranch_quarter')
    )
    with op.batch_alter_table('score_subbranch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_subbranch_quarter'), ['quarter'], unique=False)

    op.create_table('score_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('per_complaint', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('per_escalated', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('per_complaint >= 0 AND per_complaint <= 100', name=op.f('ck_score_settings_per_complaint')),
    sa.CheckConstraint('per_escalated >= 0 AND per_escalated <= 100', name=op.f('ck_score_settings_per_escalated')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['person.id'], name=op.f('fk_score_settings_changed_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_settings'))
    )
    op.create_table('score_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('quarter', sa.String(length=6), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['person.id'], name=op.f('fk_score_event_actor_id_person')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_score_event_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_event'))
    )
    with op.batch_alter_table('score_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_event_unit_id'), ['unit_id'], unique=False)

    make_append_only('score_event')


def downgrade():
    drop_append_only('score_event')
    with op.batch_alter_table('score_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_event_unit_id'))

    op.drop_table('score_event')
    op.drop_table('score_settings')
    with op.batch_alter_table('score_subbranch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_subbranch_quarter'))

    op.drop_table('score_subbranch')
    with op.batch_alter_table('score_inspection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_inspection_quarter'))

    op.drop_table('score_inspection')
