"""Honours board: titles awarded through nominations and approvals.

Revision ID: 0006_honours
Revises: 0005_ledger
Create Date: 2026-11-26

"""
import sqlalchemy as sa
from alembic import op

from portal.append_only import drop_append_only, make_append_only


# revision identifiers, used by Alembic.
revision = '0006_honours'
down_revision = '0005_ledger'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('honour',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('citation', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('nominated_by_id', sa.Integer(), nullable=True),
    sa.Column('nominated_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('points', sa.Numeric(precision=5, scale=1), nullable=True),
    sa.Column('money', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=True),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name=op.f('ck_honour_status')),
    sa.CheckConstraint("title IN ('monthly_star', 'post_expert', 'rising_star', 'grievance', 'yearly_model')", name=op.f('ck_honour_title')),
    sa.CheckConstraint('period_start <= period_end', name=op.f('ck_honour_period_span')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['person.id'], name=op.f('fk_honour_decided_by_id_person')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], name=op.f('fk_honour_ledger_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['nominated_by_id'], ['person.id'], name=op.f('fk_honour_nominated_by_id_person')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_honour_org_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_honour_person_id_person')),
    sa.ForeignKeyConstraint(['proposal_id'], ['points_proposal.id'], name=op.f('fk_honour_proposal_id_points_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_honour')),
    sa.UniqueConstraint('person_id', 'title', 'period', name='uq_honour_once')
    )
    with op.batch_alter_table('honour', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_honour_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_honour_status_period', ['status', 'period_start'], unique=False)
        batch_op.create_index('ix_honour_unit_period', ['org_unit_id', 'period_start'], unique=False)

    op.create_table('honour_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('honour_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['person.id'], name=op.f('fk_honour_event_actor_id_person')),
    sa.ForeignKeyConstraint(['honour_id'], ['honour.id'], name=op.f('fk_honour_event_honour_id_honour')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_honour_event'))
    )
    with op.batch_alter_table('honour_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_honour_event_honour_id'), ['honour_id'], unique=False)

    make_append_only('honour_event')


def downgrade():
    drop_append_only('honour_event')
    with op.batch_alter_table('honour_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_honour_event_honour_id'))

    op.drop_table('honour_event')
    with op.batch_alter_table('honour', schema=None) as batch_op:
        batch_op.drop_index('ix_honour_unit_period')
        batch_op.drop_index('ix_honour_status_period')
        batch_op.drop_index(batch_op.f('ix_honour_person_id'))

    op.drop_table('honour')
