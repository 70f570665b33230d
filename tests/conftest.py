"""Fixtures: an app per test on a fresh copy of a migrated, demo-seeded database.

The schema is built once per run from the migrations and the demo data is loaded once; each
test then gets its own copy (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on
PostgreSQL). The whole suite runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set.
"""
import itertools
import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

from portal import MIGRATIONS, create_app
from portal.demo import seed_demo
from portal.extensions import db
from portal.models import Person

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SERVER_NAME": None,
}
_counter = itertools.count()


class FreshUserClient(FlaskClient):
    """A test client whose every request loads the signed-in person afresh.

    The ``app`` fixture keeps one app context open and requests reuse it, so without this the
    person Flask-Login caches in ``g`` would carry over from one client's request to the next,
    and so would the locale Flask-Babel caches there.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
            g.pop("_flask_babel", None)
        return super().open(*args, **kwargs)


def make_app(database_url: str, instance_path, **overrides):
    """Create an app for tests on ``database_url`` with files under ``instance_path``."""
    settings = {**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url, **overrides}
    app = create_app(settings, instance_path=str(instance_path))
    app.test_client_class = FreshUserClient
    return app


def _build_template(database_url: str, instance_path) -> None:
    app = make_app(database_url, instance_path)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        seed_demo(with_history=False)  # tests build the history they assert on
        db.session.remove()
        db.engine.dispose()


def _pg_admin():
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """Build the seeded template database of each backend once."""
    base = tmp_path_factory.mktemp("template")
    built = {}
    sqlite_file = base / "template.db"
    _build_template(f"sqlite:///{sqlite_file}", base)
    built["sqlite"] = sqlite_file
    if PG_URL:
        name = f"portal_tpl_{os.getpid()}"
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        _build_template(_pg_url(name), base)
        built["postgresql"] = name
    yield built
    if PG_URL:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{built["postgresql"]}" WITH (FORCE)'))


@contextmanager
def database_copy(backend: str, templates, tmp_path):
    """Yield the URL of a private copy of the template database, dropped afterwards."""
    if backend == "sqlite":
        target = tmp_path / "portal.db"
        shutil.copyfile(templates["sqlite"], target)
        yield f"sqlite:///{target}"
        return
    name = f"portal_t_{os.getpid()}_{next(_counter)}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{templates["postgresql"]}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app_factory(backend, templates, tmp_path):
    """Make apps on a private database copy; ``app_factory(**settings)`` overrides settings."""
    with database_copy(backend, templates, tmp_path) as url:
        made = []

        def factory(**overrides):
            instance = tmp_path / "instance"
            instance.mkdir(exist_ok=True)
            made.append(make_app(url, instance, **overrides))
            return made[-1]

        yield factory
        for app in made:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def person(work_no: str) -> Person:
    """The person with ``work_no`` (inside an app context)."""
    return db.session.scalar(select(Person).where(Person.work_no == work_no))


def sign_in_as(client, work_no: str):
    """Put a signed-in session for ``work_no`` into the test client (no password hashing)."""
    token = person(work_no).session_token
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
        session["signed_in_at"] = datetime.now(timezone.utc).timestamp()
        session.permanent = True
    return client


class AuthActions:
    """Sign in and out through the real forms."""

    def __init__(self, client):
        self.client = client

    def login(self, work_no="T1001", password="demo-pass-2026", **extra):
        return self.client.post("/login", data={"work_no": work_no, "password": password, **extra})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


ROLE_ACCOUNTS = {
    "teller": "T1001",
    "lobby": "L0001",
    "manager": "M0001",
    "office": "S0001",
    "admin": "A0001",
}


def _role_client(app, role):
    return sign_in_as(app.test_client(), ROLE_ACCOUNTS[role])


@pytest.fixture
def teller(app):
    return _role_client(app, "teller")


@pytest.fixture
def lobby(app):
    return _role_client(app, "lobby")


@pytest.fixture
def manager(app):
    return _role_client(app, "manager")


@pytest.fixture
def office(app):
    return _role_client(app, "office")


@pytest.fixture
def admin(app):
    return _role_client(app, "admin")


@pytest.fixture
def count_queries(app):
    """Context manager counting SQL statements: ``with count_queries() as counted: …``."""

    @contextmanager
    def counting():
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting
