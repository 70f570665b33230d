"""The operator's commands: init-db, seed-demo, api-token create and backup (CONTRACT.md)."""
import hashlib
import itertools
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from portal import MIGRATIONS
from portal.blueprints.api.models import ApiToken
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.models import AuditEvent, OrgUnit, Person

from .conftest import PG_URL, make_app, person

# The demo organisation and people exactly as CONTRACT.md ("Demo data") lists them.
DEMO_UNITS = {
    "HQ": ("总行", "bank", None, 0),
    "ZJK": ("张家口分行", "branch", "HQ", 0),
    "ZJK-YYB": ("营业部", "subbranch", "ZJK", 0),
    "ZJK-001": ("营业部网点", "outlet", "ZJK-YYB", 6),
    "ZJK-002": ("桥东网点", "outlet", "ZJK-YYB", 4),
}
DEMO_PEOPLE = {
    "A0001": ("admin", None),
    "S0001": ("service_office", "ZJK"),
    "M0001": ("outlet_manager", "ZJK-001"),
    "L0001": ("lobby_manager", "ZJK-001"),
    **{f"T100{i}": ("teller", "ZJK-001") for i in range(1, 7)},
    "M0002": ("outlet_manager", "ZJK-002"),
    "L0002": ("lobby_manager", "ZJK-002"),
    **{f"T200{i}": ("teller", "ZJK-002") for i in range(1, 5)},
}
_names = itertools.count()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def table_counts():
    return {model.__tablename__: count(model) for model in (OrgUnit, Person, AuditEvent, ApiToken)}


@pytest.fixture
def blank_database(backend, tmp_path):
    """The URL of a brand-new database without any table, on the test's backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    name = f"portal_blank_{os.getpid()}_{next(_names)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def blank_app(blank_database, tmp_path):
    """An app on a database without tables (inside its app context)."""
    app = make_app(blank_database, tmp_path / "blank-instance")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def empty_app(blank_app):
    """An app on a migrated database that holds no data yet."""
    upgrade(directory=MIGRATIONS)
    return blank_app


# --- init-db ------------------------------------------------------------------------------

def test_init_db_can_run_twice_and_keeps_the_data(runner):
    people = count(Person)
    db.session.rollback()  # release SQLite's write lock: the migration uses its own connection
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "database is up to date" in result.output
    db.session.expire_all()
    assert count(Person) == people == len(DEMO_PEOPLE)


def test_init_db_builds_the_schema_in_a_blank_database(blank_app):
    runner = blank_app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
    tables = set(inspect(db.engine).get_table_names())
    assert {"org_unit", "person", "audit_event", "imported_file", "api_token"} <= tables
    head = ScriptDirectory(MIGRATIONS).get_current_head()
    assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == head
    assert count(Person) == 0


# --- seed-demo ----------------------------------------------------------------------------

def test_seed_demo_refuses_a_database_that_has_data(runner):
    before = table_counts()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "refused: the database is not empty" in result.stderr
    db.session.expire_all()
    assert table_counts() == before


def test_seed_demo_if_empty_leaves_a_database_with_data_alone(runner):
    before = table_counts()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "demo not loaded" in result.output
    db.session.expire_all()
    assert table_counts() == before


def test_seed_demo_counts_a_database_with_only_org_units_as_not_empty(empty_app):
    from portal.blueprints.admin.services import create_unit

    create_unit("HQ", "总行", "bank", None, 0)
    result = empty_app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1 and count(Person) == 0 and count(OrgUnit) == 1


def test_seed_demo_loads_exactly_the_demo_organisation_into_an_empty_database(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "demo data loaded" in result.output
    units = {unit.code: unit for unit in db.session.scalars(select(OrgUnit))}
    assert set(units) == set(DEMO_UNITS)
    for code, (name, kind, parent, windows) in DEMO_UNITS.items():
        unit = units[code]
        assert (unit.name, unit.kind, unit.windows) == (name, kind, windows)
        assert (unit.parent.code if unit.parent else None) == parent
    assert units["ZJK-001"].path == "/HQ/ZJK/ZJK-YYB/ZJK-001/"
    assert units["ZJK-002"].path == "/HQ/ZJK/ZJK-YYB/ZJK-002/"


def test_seed_demo_loads_exactly_the_demo_people_with_the_demo_password(empty_app):
    assert empty_app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    people = {p.work_no: p for p in db.session.scalars(select(Person))}
    assert set(people) == set(DEMO_PEOPLE)
    for work_no, (role, unit) in DEMO_PEOPLE.items():
        assert people[work_no].role == role, work_no
        assert people[work_no].active, work_no
        if unit is not None:
            assert people[work_no].org_unit.code == unit, work_no
    assert DEMO_PASSWORD == "demo-pass-2026"
    for work_no, someone in people.items():
        assert someone.password_hash.startswith("scrypt:"), work_no
        assert someone.check_password("demo-pass-2026"), work_no
    assert len({p.session_token for p in people.values()}) == len(people)


def test_demo_accounts_sign_in_after_seed_demo(empty_app):
    assert empty_app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"]).exit_code == 0
    client = empty_app.test_client()
    response = client.post("/login", data={"work_no": "A0001", "password": "demo-pass-2026"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_seed_demo_twice_refuses_the_second_time_and_adds_nothing(empty_app):
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    before = table_counts()
    assert runner.invoke(args=["seed-demo"]).exit_code == 1
    assert runner.invoke(args=["seed-demo", "--if-empty"]).exit_code == 0
    db.session.expire_all()
    assert table_counts() == before


# --- api-token create --------------------------------------------------------------------

def test_api_token_create_prints_a_token_that_works_against_the_api(app, runner):
    result = runner.invoke(args=["api-token", "create", "--name", "HR 系统"])
    assert result.exit_code == 0, result.output
    plain = result.output.strip()
    assert len(result.output.strip().splitlines()) == 1 and len(plain) >= 40
    response = app.test_client().get("/api/v1/people/T1001",
                                     headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200 and response.json["work_no"] == "T1001"


def test_api_token_is_stored_only_as_a_hash(runner):
    plain = runner.invoke(args=["api-token", "create", "--name", "绩效系统"]).output.strip()
    token = db.session.scalars(select(ApiToken)).one()
    assert token.name == "绩效系统" and token.revoked_at is None
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert token.prefix == plain[:10]
    stored = db.session.execute(text("SELECT * FROM api_token")).one()
    assert all(plain not in str(value) for value in stored)
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.created")).one()
    assert "绩效系统" in audit.details and plain not in audit.details


def test_every_api_token_is_different(runner):
    first = runner.invoke(args=["api-token", "create", "--name", "HR"]).output.strip()
    second = runner.invoke(args=["api-token", "create", "--name", "HR"]).output.strip()
    assert first != second and count(ApiToken) == 2


@pytest.mark.parametrize("name", ["", "   ", "名" * 81])
def test_api_token_create_refuses_an_empty_or_overlong_name(runner, name):
    result = runner.invoke(args=["api-token", "create", "--name", name])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "1–80" in result.stderr and result.stdout == ""
    assert count(ApiToken) == 0


def test_api_token_create_needs_a_name(runner):
    result = runner.invoke(args=["api-token", "create"])
    assert result.exit_code == 2 and "--name" in result.output
    assert count(ApiToken) == 0


# --- backup ------------------------------------------------------------------------------

@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("backup copies SQLite files; PostgreSQL is backed up with pg_dump")


def query_copy(path: Path, sql: str) -> list[tuple]:
    """Run ``sql`` on a backup file."""
    with closing(sqlite3.connect(path)) as copy:
        return copy.execute(sql).fetchall()


def check_copy(path: Path) -> int:
    """Run an integrity check on a backup file and return its number of people."""
    assert query_copy(path, "PRAGMA integrity_check") == [("ok",)]
    return query_copy(path, "SELECT count(*) FROM person")[0][0]


def test_backup_writes_a_copy_that_passes_the_integrity_check(sqlite_only, runner, tmp_path):
    target = tmp_path / "copies" / "portal-copy.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output and str(target) in result.output
    assert check_copy(target) == len(DEMO_PEOPLE)
    assert {code for code, in query_copy(target, "SELECT code FROM org_unit")} == set(DEMO_UNITS)


def test_backup_without_a_destination_goes_to_the_instance_folder(sqlite_only, app, runner):
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    copies = list((Path(app.instance_path) / "backups").glob("portal-*.db"))
    assert len(copies) == 1 and str(copies[0]) in result.output
    assert check_copy(copies[0]) == len(DEMO_PEOPLE)


def test_backup_is_online_and_leaves_out_uncommitted_writes(sqlite_only, runner, tmp_path):
    db.session.rollback()
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE person SET name = 'uncommitted' WHERE work_no = 'T1001'")
        result = runner.invoke(args=["backup", str(tmp_path / "online.db")])
        assert result.exit_code == 0, result.output
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert check_copy(tmp_path / "online.db") == len(DEMO_PEOPLE)
    assert query_copy(tmp_path / "online.db",
                      "SELECT name FROM person WHERE work_no = 'T1001'") == [("王芳",)]


def test_backup_includes_changes_committed_by_the_portal(sqlite_only, runner, tmp_path):
    person("T1001").name = "改过的名字"
    db.session.commit()
    assert runner.invoke(args=["backup", str(tmp_path / "after.db")]).exit_code == 0
    assert query_copy(tmp_path / "after.db",
                      "SELECT name FROM person WHERE work_no = 'T1001'") == [("改过的名字",)]


def test_backup_refuses_to_overwrite_the_live_database(sqlite_only, runner):
    live = Path(db.engine.url.database)
    result = runner.invoke(args=["backup", str(live)])
    assert result.exit_code == 1 and "overwrite the database itself" in result.stderr
    db.session.expire_all()
    assert count(Person) == len(DEMO_PEOPLE)
    assert check_copy(live) == len(DEMO_PEOPLE)


def test_backup_on_postgresql_points_to_pg_dump(backend, runner, tmp_path):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    result = runner.invoke(args=["backup", str(tmp_path / "x.db")])
    assert result.exit_code == 1 and "pg_dump" in result.stderr
    assert not (tmp_path / "x.db").exists()

