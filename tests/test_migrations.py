"""The migrations build exactly the schema the models describe."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_the_schema_enforces_the_role_list(app):
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE person SET role = 'boss' WHERE work_no = 'T1001'"))
        db.session.flush()
    db.session.rollback()
