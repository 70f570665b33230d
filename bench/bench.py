"""Benchmarks, each reported as a ratio against a bare baseline measured in the same run.

    make bench            # or: .venv/bin/python -m bench.bench [--quick]

1. Rating POST throughput (the customer's /r/<token> form) against a bare Flask view that
   inserts one row through SQLAlchemy into SQLite.           goal: >= 50 % of the baseline
2. The teller's home page with a year of data (~1M ratings) against a bare Flask "hello".
                                                              goal: >= 30 % of the baseline
3. import-ratings of 200k rows against csv.reader + sqlite3 executemany of the same file.
                                                              goal: <= 5x the raw time
Requests are driven in-process through the WSGI interface (no network), one at a time, so
both sides of each ratio pay the same harness cost. Results go to bench/results/latest.json.
"""
import argparse
import csv
import json
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from flask_migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import MIGRATIONS, create_app  # noqa: E402
from portal.demo import seed_demo  # noqa: E402
from portal.extensions import db  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"


def portal_app(folder: Path) -> Flask:
    """A production-configured portal on a fresh SQLite file with the demo organisation."""
    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/portal.db",
                      "RATELIMIT_ENABLED": False}, instance_path=str(folder))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        seed_demo(with_history=False)
    return app


def csrf_token(page: str) -> str:
    """The CSRF token of the first form on ``page``."""
    return page.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]


def rate(fn, seconds: float) -> tuple[float, int]:
    """Call ``fn`` repeatedly for about ``seconds``; return (calls per second, calls)."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed, count


# 1. rating POST -----------------------------------------------------------------------

def bench_rating_post(folder: Path, seconds: float) -> dict:
    from portal.blueprints.ratings import services
    from portal.blueprints.ratings.models import Rating, Window
    from portal.models import Person
    from portal.timeutil import utcnow

    app = portal_app(folder / "post")
    with app.app_context():
        teller = db.session.query(Person).filter_by(work_no="T1001").one()
        window = db.session.query(Window).filter_by(outlet_id=teller.org_unit_id, number=1).one()
        services.open_window(teller, window, utcnow())
        token_url = f"/r/{window.token}"
        view_tokens = [services.view_token(window) for _ in range(200_000)]
        before = db.session.query(Rating).count()
    client = app.test_client()
    csrf = csrf_token(client.get(token_url).get_data(as_text=True))
    tokens = iter(view_tokens)

    def post():
        client.set_cookie("rid", secrets.token_urlsafe(16))
        response = client.post(token_url, data={"csrf_token": csrf, "view_token": next(tokens),
                                                "stars": "5", "comment": "很好"})
        assert response.status_code == 303, response.status_code

    portal_rate, calls = rate(post, seconds)
    with app.app_context():
        stored = db.session.query(Rating).count() - before
    assert stored == calls, (stored, calls)

    bare = Flask("bare")
    bare.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder}/bare.db"
    bare_db = SQLAlchemy(bare)

    class Row(bare_db.Model):
        id = bare_db.Column(bare_db.Integer, primary_key=True)
        stars = bare_db.Column(bare_db.Integer)
        comment = bare_db.Column(bare_db.String(500))

    @bare.post("/rate")
    def bare_rate():
        bare_db.session.add(Row(stars=int(request.form["stars"]), comment=request.form["comment"]))
        bare_db.session.commit()
        return "", 303

    with bare.app_context():
        bare_db.create_all()
        bare_db.session.execute(bare_db.text("PRAGMA journal_mode=WAL"))
    bare_client = bare.test_client()
    baseline, _ = rate(lambda: bare_client.post("/rate", data={"stars": "5", "comment": "很好"}),
                       seconds)
    return {"portal_per_s": round(portal_rate, 1), "baseline_per_s": round(baseline, 1),
            "ratio": round(portal_rate / baseline, 3), "goal": ">= 0.50", "stored": stored}


# 2. teller home with a year of data --------------------------------------------------------

def fill_year(app: Flask, total: int) -> None:
    """Insert ``total`` ratings over the last 365 days for the demo tellers, with transactions."""
    from portal.blueprints.ratings.services import rebuild_rating_days
    from portal.models import Person

    with app.app_context():
        tellers = [(p.id, p.org_unit_id) for p in db.session.query(Person).filter_by(role="teller")]
        path = db.engine.url.database
    rng = random.Random(7)
    today = date.today()
    raw = sqlite3.connect(path)
    per_day = total // (365 * len(tellers)) + 1
    rows, tx = [], []
    for pid, outlet in tellers:
        for back in range(365):
            day = today - timedelta(days=back)
            tx.append((pid, day.isoformat(), per_day + 5))
            for n in range(per_day):
                at = datetime.combine(day, datetime.min.time()) + timedelta(hours=1, seconds=n * 20)
                rows.append((pid, outlet, at.isoformat(" "), day.isoformat(),
                             5 if rng.random() < 0.9 else 4, "", "好" if n % 50 == 0 else "", "",
                             "device", 0))
    raw.executemany(
        "INSERT INTO rating (person_id, outlet_id, rated_at, local_date, stars, tags, comment,"
        " ticket_no, channel, flagged) VALUES (?,?,?,?,?,?,?,?,?,?)", rows[:total])
    raw.executemany("INSERT INTO daily_transactions (person_id, day, count) VALUES (?,?,?)", tx)
    raw.commit()
    raw.close()
    with app.app_context():
        rebuild_rating_days()


def bench_teller_home(folder: Path, seconds: float, total: int) -> dict:
    app = portal_app(folder / "home")
    started = time.perf_counter()
    fill_year(app, total)
    fill_seconds = time.perf_counter() - started
    client = app.test_client()
    csrf = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"work_no": "T1001", "password": "demo-pass-2026", "csrf_token": csrf})

    def home():
        response = client.get("/")
        assert response.status_code == 200, response.status_code

    portal_rate, _ = rate(home, seconds)
    bare = Flask("hello")
    bare.add_url_rule("/", "hello", lambda: "hello")
    bare_client = bare.test_client()
    baseline, _ = rate(lambda: bare_client.get("/"), seconds)
    return {"ratings": total, "fill_seconds": round(fill_seconds, 1),
            "portal_per_s": round(portal_rate, 1), "baseline_per_s": round(baseline, 1),
            "ratio": round(portal_rate / baseline, 3), "goal": ">= 0.30"}


# 3. import-ratings ---------------------------------------------------------------------------

def bench_import(folder: Path, rows: int) -> dict:
    from portal.blueprints.ratings.imports import RATING_IMPORTER
    from portal.imports import run_import

    csv_path = folder / "ratings.csv"
    rng = random.Random(3)
    start = datetime.combine(date.today() - timedelta(days=200), datetime.min.time())
    tellers = [f"T100{i}" for i in range(1, 7)] + [f"T200{i}" for i in range(1, 5)]
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["rated_at", "work_no", "stars", "channel"])
        for n in range(rows):
            at = start + timedelta(seconds=n * 60)
            writer.writerow([at.strftime("%Y-%m-%d %H:%M:%S"), rng.choice(tellers),
                             rng.choice("45555"), "device"])
    app = portal_app(folder / "import")
    with app.app_context():
        started = time.perf_counter()
        imported = run_import(RATING_IMPORTER, csv_path)
        portal_seconds = time.perf_counter() - started
    raw = sqlite3.connect(folder / "raw.db")
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("CREATE TABLE rating (id INTEGER PRIMARY KEY, rated_at TEXT, work_no TEXT,"
                " stars INTEGER, channel TEXT)")
    started = time.perf_counter()
    with csv_path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        raw.executemany("INSERT INTO rating (rated_at, work_no, stars, channel) VALUES (?,?,?,?)",
                        reader)
    raw.commit()
    raw_seconds = time.perf_counter() - started
    raw.close()
    return {"rows": imported, "portal_seconds": round(portal_seconds, 2),
            "raw_seconds": round(raw_seconds, 2),
            "ratio": round(portal_seconds / raw_seconds, 2), "goal": "<= 5.0"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, shorter runs")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 5.0
    ratings = 100_000 if args.quick else 1_000_000
    import_rows = 20_000 if args.quick else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for sub in ("post", "home", "import"):
            (folder / sub).mkdir()
        results = {
            "when": datetime.now().isoformat(timespec="seconds"),
            "rating_post": bench_rating_post(folder, seconds),
            "teller_home": bench_teller_home(folder, seconds, ratings),
            "import_ratings": bench_import(folder, import_rows),
        }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
