"""Durability under a real gunicorn (2 workers): concurrent ratings, kill -9, online backup.

A small, fast cut of ``make soak`` (bench/soak.py, docs/reliability.md), RELIABILITY items 17
and 18: every acknowledged rating is stored once, a kill -9 during writes loses nothing that
was acknowledged, and ``flask backup`` copies the SQLite database while it is being written.
PostgreSQL runs when TEST_DATABASE_URL is set, and is reported as skipped otherwise.
"""
import os
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import soak
from portal import database
from portal.blueprints.ratings import services
from portal.blueprints.ratings.models import Rating, Window
from portal.extensions import db
from portal.timeutil import utcnow
from .conftest import person

PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request):
    """A demo instance (no history; one extra outlet with four open windows) under gunicorn."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL durability runs only with TEST_DATABASE_URL set")
    folder = Path(tempfile.mkdtemp(prefix="durability-"))
    inst = soak.Instance(request.param, folder, PG_URL or soak.PG_URL, workers=2)
    try:
        inst.build(history=False, outlets=1, managers=1, tellers=4)
        inst.server.start()
        yield inst, soak.Customers(lambda: inst.server.port, inst.windows, "t")
    finally:
        inst.server.stop()
        inst.drop_database()
        soak.shutil.rmtree(folder, ignore_errors=True)


def test_forty_concurrent_ratings_are_each_stored_once(served):
    inst, customers = served
    tally, acked, _ = soak.burst(customers, "burst", 40)
    check = soak.rows_check(inst, "burst", "t", acked)
    assert tally.latency["post"] and tally.statuses[303] == 40, tally.statuses
    assert check == {"acknowledged": 40, "stored": 40, "lost": 0, "duplicates": 0,
                     "stored_not_acknowledged": 0}
    assert tally.leaks == 0 and tally.network_errors == 0
    assert soak.day_mismatch(inst) == 0  # the per-day counts moved with every row


def test_a_form_posted_twice_at_once_stores_one_rating(served):
    inst, customers = served
    result = soak.scenario_double_submit(inst, customers, "t", 10)
    assert result["customers"] == 10 and result["thank_you_pages"] == 10
    assert result["refused_409_or_429"] == 10 and result["unexpected"] == {}
    assert result["stored"] == 10 and result["duplicates"] == 0 and result["5xx"] == 0


def test_kill9_during_writes_keeps_every_acknowledged_rating(served):
    inst, customers = served
    result = soak.scenario_kills(inst, customers, "t", times=1, writers=8)
    assert result["acknowledged"] > 0, "the kill came before any rating was answered"
    assert result["lost"] == 0 and result["duplicates"] == 0 and result["5xx"] == 0
    assert result["integrity_all_ok"]
    assert result["first_rating_after_restart_all_acknowledged"]  # serves at once
    assert soak.day_mismatch(inst) == 0


def test_backup_copies_the_database_while_it_is_written(served):
    inst, customers = served
    if inst.backend == "postgresql":
        refused = inst.flask("backup", check=False)
        assert refused.returncode == 1 and "pg_dump" in refused.stderr
        return
    result = soak.scenario_backup(inst, customers, "t", total=45, seconds=3.0)
    assert result["backup_exit"] == 0 and "integrity ok" in result["backup_output"]
    assert result["acknowledged_before_backup"] > 0
    assert result["copy_integrity"] == "ok" and result["copy_opens_with_portal"] == 200
    assert result["copy_holds_everything_acknowledged_before"]
    assert result["lost"] == 0 and result["duplicates"] == 0
    # the restore of docs/operations.md: stop, copy back, drop -wal/-shm, start, count
    assert result["restore_healthz"] == 200 and result["restore_count_matches_copy"]


@contextmanager
def write_lock_held_elsewhere(url):
    """Another process's connection holding the write lock on the rating table."""
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
    else:
        import psycopg

        conn = psycopg.connect(soak.plain_pg(url.render_as_string(hide_password=False)))
        conn.execute("LOCK TABLE rating IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def test_a_rating_waiting_on_a_held_lock_answers_503_with_retry_after(app_factory, monkeypatch):
    """Regression: on PostgreSQL a lock held elsewhere made the request wait until gunicorn's
    worker timeout killed it (a 500); now both backends give up after LOCK_WAIT_MS."""
    monkeypatch.setattr(database, "LOCK_WAIT_MS", 300)
    app = app_factory()
    with app.app_context():
        teller = person("T1001")
        window = db.session.scalar(select(Window).where(Window.outlet_id == teller.org_unit_id,
                                                        Window.number == 1))
        services.open_window(teller, window, utcnow())
        token, url = window.token, db.engine.url
        before = db.session.scalar(select(func.count(Rating.id)))
        db.session.remove()
    client = app.test_client()

    def rate():
        page = client.get(f"/r/{token}").get_data(as_text=True)
        return client.post(f"/r/{token}", data={"view_token": soak.field(page, "view_token"),
                                                 "stars": "5"})

    with write_lock_held_elsewhere(url):
        started = time.monotonic()
        refused = rate()
        waited = time.monotonic() - started
    page = refused.get_data(as_text=True)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert "系统正忙" in page and "lock timeout" not in page
    assert not any(text in page for text in soak.LEAKS)
    assert waited < 5
    assert rate().status_code == 303  # the lock gone, the next customer is thanked
    with app.app_context():
        assert db.session.scalar(select(func.count(Rating.id))) == before + 1
