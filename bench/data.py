"""Bench databases: the freshly seeded demo, and large databases shared by several branches.

Size 0 is the demo organisation as ``seed_demo(with_history=False)`` leaves it, built afresh.

A larger size N is one database shared by several branches:

* the demo organisation, whose ten tellers get a realistic year on the run's own copy (about
  30 ratings per teller per working day, Monday to Saturday, a duty session on every day the
  window was open and the queue system's daily transactions, so that 开机率 has data), ending
  yesterday; the demo people's pages therefore show the same amount of their own data at
  every size N;
* a separate synthetic branch (``SYN``, under the bank, outside the demo service office's
  branch): sub-branches of 10 outlets, each outlet with 10 windows, 10 tellers, a manager and
  a lobby manager, and as many tellers as it takes for the rest of the N ratings at the same
  density over the same year.

The synthetic part is built once per size and schema and cached, keyed by the Alembic head
revision and a digest of the migration files (a new or changed migration rebuilds it): the
SQLite file under instance/bench/, a kept PostgreSQL database ``bench_cache_<size>_<key>``.
Rows go in fast (sqlite3 executemany / COPY, the rating table's secondary indexes dropped and
re-created after the load), rating_day is filled with the INSERT ... SELECT equivalent of
``rebuild_rating_days``, then ANALYZE. Each run works on a copy (file copy; CREATE DATABASE
... TEMPLATE), never on the cache.
"""
import hashlib
import io
import math
import os
import random
import re
import shutil
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from .common import (
    CACHE_DIR,
    DEMO_PASSWORD,
    SECRET,
    Db,
    checked_pg_name,
    drop,
    drop_pg,
    pg_admin,
    size_label,
)

#: bump when the generated data changes, so that caches built by older code are rebuilt
DATA_VERSION = "2"
WORKING_DAYS = 313  # Monday to Saturday over a year
PER_DAY = 30  # ratings per teller per working day
TELLERS_PER_OUTLET = 10
OUTLETS_PER_SUBBRANCH = 10
DEMO_TELLERS = 10
DEMO_YEAR_ESTIMATE = 92_300  # what working_days() and PER_DAY give the ten demo tellers
CHUNK = 100_000

# per teller, as in portal/blueprints/ratings/demo.py: evaluation rate, share of 5 stars,
# share of 4 stars, share of days the window stayed closed
PROFILES = ((0.97, 0.93, 0.065, 0.0), (0.92, 0.85, 0.13, 0.01), (0.88, 0.75, 0.2, 0.03),
            (0.80, 0.65, 0.28, 0.06), (0.95, 0.9, 0.09, 0.0), (0.86, 0.7, 0.25, 0.02))
MEAN_RATE = sum(p[0] * (1 - p[3]) for p in PROFILES) / len(PROFILES)
COMMENTS_GOOD = ("服务很热情,谢谢!", "办理很快,专业。", "耐心解答了我的问题。", "态度很好,点赞",
                 "帮老人填单很细心。", "讲解清楚,下次还来。")
COMMENTS_BAD = ("等了很久,窗口只开了两个。", "态度有点冷淡。", "推销理财产品太多了。")
RATING_COLUMNS = ("person_id", "outlet_id", "window_id", "duty_id", "rated_at", "local_date",
                  "stars", "tags", "comment", "ticket_no", "channel", "nonce", "client_key",
                  "ip", "flagged")
DUTY_COLUMNS = ("id", "window_id", "person_id", "opened_at", "closed_at", "local_date")
TX_COLUMNS = ("person_id", "day", "count")


def log(message: str) -> None:
    print(f"  [data] {message}", flush=True)


# --- cache keys ------------------------------------------------------------------------------

def schema_key() -> str:
    """The Alembic head revision(s), a digest of every migration file and the data version."""
    from alembic.script import ScriptDirectory

    from portal import MIGRATIONS

    heads = sorted(ScriptDirectory(MIGRATIONS).get_heads())
    digest = hashlib.sha256()
    for path in sorted(Path(MIGRATIONS, "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(DATA_VERSION.encode())
    return f"{'+'.join(heads)}-{digest.hexdigest()[:8]}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def cache_db(backend: str, size: int, key: str) -> Db:
    if backend == "sqlite":
        return Db.sqlite(CACHE_DIR / f"sqlite-{size_label(size)}-{key}.db")
    head, digest = key.rsplit("-", 1)
    name = f"bench_cache_{_slug(size_label(size))}_{_slug(head)[:28]}_{digest}"
    return Db.postgresql(name[:63])


def _pg_databases(pattern: str) -> list[str]:
    with pg_admin() as conn:
        return [name for (name,) in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,))]


def _remove_stale_caches(backend: str, key: str) -> None:
    """Caches built for another schema or data version, and builds that never finished."""
    if backend == "sqlite":
        for path in CACHE_DIR.glob("sqlite-*.db*"):
            building = re.search(r"\.building-(\d+)$", path.name)
            if building and _alive(int(building.group(1))):
                continue  # another run is building it right now
            if not path.name.split(".db")[0].endswith(key) or building:
                log(f"removing stale cache {path.name}")
                path.unlink(missing_ok=True)
        return
    digest = key.rsplit("-", 1)[1]
    for name in _pg_databases("bench\\_cache\\_%"):
        if not name.endswith("_" + digest):
            log(f"dropping stale cache database {name}")
            drop_pg(name)
    for name in _pg_databases("bench\\_building\\_%"):
        pid = int(name.rsplit("_", 1)[1]) if name.rsplit("_", 1)[1].isdigit() else 0
        if not _alive(pid):
            log(f"dropping unfinished build {name}")
            drop_pg(name)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _write_meta(db: Db, meta: dict) -> None:
    """When and how fast the cache was built: a JSON file beside the SQLite file, the
    database's comment on PostgreSQL."""
    import json

    text = json.dumps(meta, sort_keys=True)
    if db.backend == "sqlite":
        Path(f"{db.path}.json").write_text(text)
        return
    with pg_admin() as conn:
        conn.execute(f'COMMENT ON DATABASE "{checked_pg_name(db.name)}" IS '
                     + "'" + text.replace("'", "''") + "'")


def read_meta(db: Db) -> dict:
    import json

    try:
        if db.backend == "sqlite":
            return json.loads(Path(f"{db.path}.json").read_text())
        with pg_admin() as conn:
            row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                               "WHERE datname = %s", (db.name,)).fetchone()
        return json.loads(row[0]) if row and row[0] else {}
    except (OSError, ValueError):
        return {}


def _exists(db: Db) -> bool:
    if db.backend == "sqlite":
        return db.path.exists()
    return bool(_pg_databases(db.name.replace("_", "\\_")))


# --- databases through the portal --------------------------------------------------------------

def portal_app(db: Db, instance: Path):
    from portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": db.url, "SECRET_KEY": SECRET,
                       "RATELIMIT_ENABLED": False}, instance_path=str(instance))


def dispose() -> None:
    from portal.extensions import db as portal_db

    portal_db.session.remove()
    portal_db.engine.dispose()


def dispose_quietly() -> None:
    try:
        dispose()
    except Exception:  # nosec B110 - no app context was ever made: nothing to dispose of
        pass


def create_empty(db: Db) -> None:
    if db.backend == "sqlite":
        drop(db)
        db.path.parent.mkdir(parents=True, exist_ok=True)
    else:
        drop_pg(db.name)
        with pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{checked_pg_name(db.name)}"')


def migrate_and_seed(db: Db, instance: Path) -> None:
    """The schema of the newest migration and the demo organisation, nothing else (in a
    child process, so that Alembic's logging set-up stays out of the bench's output)."""
    import subprocess
    import sys

    from .common import ROOT

    done = subprocess.run([sys.executable, "-m", "bench.data", "migrate-seed", db.url,
                           str(instance)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"migrate and seed failed:\n{done.stdout}\n{done.stderr}")


def _migrate_and_seed_here(url: str, instance: str) -> None:
    from flask_migrate import upgrade

    from portal import MIGRATIONS
    from portal.demo import seed_demo

    db = Db("sqlite" if url.startswith("sqlite") else "postgresql", url)
    app = portal_app(db, Path(instance))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        seed_demo(with_history=False)
        dispose()


def fresh_demo(backend: str, workdir: Path, tag: str) -> Db:
    """Size 0: a new database with the demo organisation (``seed_demo(with_history=False)``)."""
    db = (Db.sqlite(workdir / f"{tag}.db") if backend == "sqlite"
          else Db.postgresql(f"bench_run_{os.getpid()}_{tag}"))
    create_empty(db)
    try:
        migrate_and_seed(db, workdir / "instance")
    except BaseException:
        drop(db)
        raise
    return db


# --- the synthetic branch ------------------------------------------------------------------------

def synthetic_org(db: Db, instance: Path, outlets: int) -> list[tuple[int, int, int, int]]:
    """Add branch SYN with ``outlets`` outlets; (person id, outlet id, window id, profile)
    of each synthetic teller."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from portal.blueprints.admin.services import build_unit
    from portal.blueprints.ratings.models import Window
    from portal.extensions import db as portal_db
    from portal.models import LOBBY, MANAGER, TELLER, Person, unit_by_code

    app = portal_app(db, instance)
    password_hash = generate_password_hash(DEMO_PASSWORD, method="scrypt")
    joined = date(2020, 3, 1)
    tellers = []
    with app.app_context():
        session = portal_db.session
        branch = build_unit("SYN", "压测分行", "branch", unit_by_code("HQ"), 0)
        sub = None
        for n in range(outlets):
            if n % OUTLETS_PER_SUBBRANCH == 0:
                k = n // OUTLETS_PER_SUBBRANCH + 1
                sub = build_unit(f"SYN-Z{k:02d}", f"压测支行{k}", "subbranch", branch, 0)
            unit = build_unit(f"SYN-{n + 1:04d}", f"压测网点{n + 1}", "outlet", sub,
                              TELLERS_PER_OUTLET)
            people = [Person(work_no=f"M5{n + 1:04d}", name=f"压测经理{n + 1}", role=MANAGER,
                             org_unit=unit, joined_on=joined, password_hash=password_hash),
                      Person(work_no=f"L5{n + 1:04d}", name=f"压测大堂{n + 1}", role=LOBBY,
                             org_unit=unit, joined_on=joined, password_hash=password_hash)]
            people += [Person(work_no=f"T5{n + 1:04d}{t:02d}", name=f"压测柜员{n + 1}-{t}",
                              role=TELLER, org_unit=unit, joined_on=joined,
                              password_hash=password_hash)
                       for t in range(1, TELLERS_PER_OUTLET + 1)]
            session.add_all(people)
        session.flush()
        windows = {(w.outlet_id, w.number): w.id for w in session.scalars(select(Window))}
        found = session.execute(
            select(Person.id, Person.org_unit_id, Person.work_no)
            .where(Person.role == TELLER, Person.work_no.like("T5%")).order_by(Person.work_no))
        for index, (pid, outlet_id, work_no) in enumerate(found):
            tellers.append((pid, outlet_id, windows[(outlet_id, int(work_no[-2:]))],
                            index % len(PROFILES)))
        session.commit()
        dispose()
    return tellers


def demo_tellers(db: Db) -> list[tuple[int, int, int, int]]:
    """(person id, outlet id, window id, profile) of the demo tellers (window = last digit)."""
    conn = db.connect()
    try:
        rows = conn.execute(
            "SELECT p.id, p.org_unit_id, w.id, p.work_no FROM person p JOIN \"window\" w ON "
            "w.outlet_id = p.org_unit_id AND w.number = CAST(substr(p.work_no, 5, 1) AS INTEGER) "
            "WHERE p.role = 'teller' AND (p.work_no LIKE 'T100%' OR p.work_no LIKE 'T200%') "
            "ORDER BY p.work_no").fetchall()
    finally:
        conn.close()
    return [(pid, outlet, window, index % len(PROFILES))
            for index, (pid, outlet, window, _) in enumerate(rows)]


def working_days(last: date, days: int = 365) -> list[date]:
    """Monday to Saturday of the ``days`` days up to and including ``last``."""
    return [d for d in (last - timedelta(days=back) for back in range(days - 1, -1, -1))
            if d.weekday() != 6]


def year_of(tellers, days: list[date], mean_ratings: float, first_duty_id: int, seed: int):
    """Duty sessions, daily transactions and ratings of ``tellers`` over ``days``.

    Yields ("duty" | "tx" | "rating", row) with SQL-ready values: times as naive UTC text in
    SQLAlchemy's SQLite format (accepted as timestamps by PostgreSQL too), dates as ISO text.
    Local business hours are 09:00-17:00 in UTC+8, so the UTC date is the local date.
    """
    rng = random.Random(seed)
    duty_id = first_duty_id
    for pid, outlet_id, window_id, profile in tellers:
        rate, five, four, closed = PROFILES[profile]
        mean_tx = mean_ratings / MEAN_RATE
        for day in days:
            text = day.isoformat()
            count = max(1, round(rng.gauss(mean_tx, max(1.0, mean_tx * 0.2))))
            yield "tx", (pid, text, count)
            if rng.random() < closed:
                continue
            yield "duty", (duty_id, window_id, pid, f"{text} 00:55:00.000000",
                           f"{text} 09:05:00.000000", text)
            stamps = sorted(rng.randrange(8 * 3600) for _ in range(count) if rng.random() < rate)
            for second in stamps:
                draw = rng.random()
                stars = 5 if draw < five else 4 if draw < five + four else rng.choice((3, 3, 2, 1))
                comment = ""
                if rng.random() < 0.04:
                    comment = rng.choice(COMMENTS_GOOD if stars >= 4 else COMMENTS_BAD)
                tags = "态度热情" if stars == 5 and comment else ""
                at = (f"{text} {1 + second // 3600:02d}:{second // 60 % 60:02d}:"
                      f"{second % 60:02d}.{rng.randrange(1000000):06d}")
                if rng.random() < 0.6:  # scanned the window's QR code with a phone
                    yield "rating", (pid, outlet_id, window_id, duty_id, at, text, stars, tags,
                                     comment, "", "qr", f"{rng.getrandbits(128):032x}",
                                     f"{rng.getrandbits(256):064x}",
                                     f"{rng.choice((36, 39, 106, 111, 117, 120, 223))}."
                                     f"{rng.randrange(256)}.{rng.randrange(256)}."
                                     f"{rng.randrange(1, 255)}", 0)
                else:  # the evaluator device on the counter, imported from its system
                    yield "rating", (pid, outlet_id, None, None, at, text, stars, tags, comment,
                                     "", "device", None, None, None, 0)
            duty_id += 1


def _sqlite_insert(table: str, columns: tuple[str, ...]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "  # nosec B608: fixed names
            f"VALUES ({', '.join('?' * len(columns))})")


def _tsv(rows) -> str:
    out = io.StringIO()
    for row in rows:
        out.write("\t".join("\\N" if v is None else str(v) for v in row))
        out.write("\n")
    return out.getvalue()


class Loader:
    """Bulk writer of generated rows (sqlite3 executemany or COPY), in chunks."""

    TABLES = {"rating": RATING_COLUMNS, "duty": DUTY_COLUMNS, "tx": TX_COLUMNS}
    NAMES = {"rating": "rating", "duty": "duty_session", "tx": "daily_transactions"}

    def __init__(self, db: Db, conn):
        self.db, self.conn = db, conn
        self.buffers = {kind: [] for kind in self.TABLES}
        self.counts = {kind: 0 for kind in self.TABLES}

    def add(self, kind: str, row: tuple) -> None:
        buffer = self.buffers[kind]
        buffer.append(row)
        if len(buffer) >= CHUNK:
            self.flush(kind)

    def flush(self, kind: str) -> None:
        rows, self.buffers[kind] = self.buffers[kind], []
        if not rows:
            return
        self.counts[kind] += len(rows)
        table, columns = self.NAMES[kind], self.TABLES[kind]
        if self.db.backend == "sqlite":
            self.conn.executemany(_sqlite_insert(table, columns), rows)
        else:
            with self.conn.cursor().copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(_tsv(rows))

    def close(self) -> dict:
        for kind in self.TABLES:
            self.flush(kind)
        return self.counts


def _secondary_indexes(conn, backend: str, table: str) -> list[tuple[str, str, str]]:
    """(kind, name, SQL to re-create) of ``table``'s indexes other than the primary key."""
    if backend == "sqlite":
        return [("index", name, sql) for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL", (table,))]
    constraints = {name: (kind, definition) for name, kind, definition in conn.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u')", (table,))}
    found = []
    for name, definition in conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", (table,)):
        kind, constraint = constraints.get(name, (None, None))
        if kind == "p":
            continue
        if kind == "u":
            found.append(("constraint", name,
                          f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {constraint}'))
        else:
            found.append(("index", name, definition))
    return found


def _drop_indexes(conn, backend: str, table: str, indexes) -> None:
    for kind, name, _ in indexes:
        if kind == "constraint":
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        else:
            conn.execute(f'DROP INDEX "{name}"')


def fill_rating_days(conn, backend: str, person_ids: list[int] | None = None) -> None:
    """``rebuild_rating_days`` as one INSERT ... SELECT (of ``person_ids`` only, if given)."""
    from portal.blueprints.ratings.services import SATISFIED_STARS

    only = ""
    if person_ids:
        only = f" AND r.person_id IN ({', '.join(str(int(p)) for p in person_ids)})"
        conn.execute(f"DELETE FROM rating_day WHERE person_id IN "  # nosec B608: ints
                     f"({', '.join(str(int(p)) for p in person_ids)})")
    satisfied = f"SUM(CASE WHEN r.stars >= {int(SATISFIED_STARS)} THEN 1 ELSE 0 END)"
    conn.execute(
        "INSERT INTO rating_day (person_id, outlet_id, local_date, ratings, stars, satisfied) "
        f"SELECT r.person_id, r.outlet_id, r.local_date, COUNT(*), SUM(r.stars), {satisfied} "  # nosec B608
        "FROM rating r WHERE NOT EXISTS (SELECT 1 FROM rating_review v WHERE v.rating_id = r.id "
        f"AND v.action = 'exclude'){only} GROUP BY r.person_id, r.outlet_id, r.local_date")


def _next_duty_id(conn) -> int:
    return (conn.execute("SELECT MAX(id) FROM duty_session").fetchone()[0] or 0) + 1


def _pg_fix_sequence(conn, table: str) -> None:
    conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                 f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")  # nosec B608: fixed names


def load_year(db: Db, tellers, days: list[date], mean_ratings: float, seed: int,
              bulk: bool) -> dict:
    """Write a year of ``tellers`` into ``db`` in one transaction, and rating_day for them.

    ``bulk`` (a new cache): the rating table's secondary indexes are dropped for the load and
    re-created after it, SQLite runs without a journal, rating_day is filled for everyone.
    """
    rebuild_indexes = bulk
    conn = db.connect()
    try:
        if db.backend == "sqlite":
            conn.execute("PRAGMA cache_size=-2000000")
            if bulk:
                conn.execute("PRAGMA journal_mode=OFF")
                conn.execute("PRAGMA synchronous=OFF")
            conn.execute("BEGIN IMMEDIATE")
        else:
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("SET session_replication_role = replica")  # no FK trigger per row
        indexes = _secondary_indexes(conn, db.backend, "rating") if rebuild_indexes else []
        _drop_indexes(conn, db.backend, "rating", indexes)
        loader = Loader(db, conn)
        for kind, row in year_of(tellers, days, mean_ratings, _next_duty_id(conn), seed):
            loader.add(kind, row)
        counts = loader.close()
        started = time.perf_counter()
        for _, name, sql in indexes:
            conn.execute(sql)
        index_seconds = time.perf_counter() - started
        if db.backend == "postgresql":
            conn.execute("SET session_replication_role = origin")
            _pg_fix_sequence(conn, "duty_session")
        started = time.perf_counter()
        fill_rating_days(conn, db.backend, None if rebuild_indexes else [t[0] for t in tellers])
        days_seconds = time.perf_counter() - started
        if db.backend == "sqlite":
            conn.execute("COMMIT")
            if bulk:
                conn.execute("PRAGMA journal_mode=WAL")
        else:
            conn.commit()
    finally:
        conn.close()
    return {**counts, "index_seconds": round(index_seconds, 1),
            "rating_day_seconds": round(days_seconds, 1)}


def analyze(db: Db, vacuum: bool = False) -> None:
    conn = db.connect()
    try:
        if db.backend == "sqlite":
            conn.execute("ANALYZE")
        else:
            conn.autocommit = True
            conn.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")
    finally:
        conn.close()


def build_cache(backend: str, size: int, workdir: Path) -> tuple[Db, float | None]:
    """The cached synthetic database of ``size`` ratings; built when missing (seconds, else
    None when it was there already)."""
    key = schema_key()
    final = cache_db(backend, size, key)
    if _exists(final):
        return final, None
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    _remove_stale_caches(backend, key)
    started = time.perf_counter()
    if backend == "sqlite":
        temp = Db.sqlite(Path(f"{final.path}.building-{os.getpid()}"))
    else:
        temp = Db.postgresql(f"bench_building_{_slug(size_label(size))}_{os.getpid()}")
    synthetic = max(0, size - DEMO_YEAR_ESTIMATE)
    tellers_wanted = max(1, math.ceil(synthetic / (WORKING_DAYS * PER_DAY)))
    outlets = max(1, math.ceil(tellers_wanted / TELLERS_PER_OUTLET))
    per_day = synthetic / (outlets * TELLERS_PER_OUTLET * WORKING_DAYS)
    log(f"building the {size_label(size)} {backend} cache ({outlets} synthetic outlets, "
        f"{per_day:.1f} ratings per teller-day) -> {final.describe()}")
    try:
        create_empty(temp)
        migrate_and_seed(temp, workdir / "instance")
        tellers = synthetic_org(temp, workdir / "instance", outlets)
        days = working_days(date.today() - timedelta(days=1))
        counts = load_year(temp, tellers, days, per_day, seed=size, bulk=True)
        log(f"loaded {counts} in {time.perf_counter() - started:.0f} s; analyzing")
        analyze(temp, vacuum=True)
        if backend == "sqlite":
            conn = temp.connect()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            os.replace(temp.path, final.path)
        else:
            with pg_admin() as admin:
                admin.execute(f'ALTER DATABASE "{temp.name}" RENAME TO "{final.name}"')
    except BaseException:
        drop(temp)
        raise
    seconds = time.perf_counter() - started
    _write_meta(final, {"built_at": datetime.now().isoformat(timespec="seconds"),
                        "build_seconds": round(seconds, 1), "synthetic_outlets": outlets,
                        "synthetic_ratings": counts["rating"], "schema_key": key})
    log(f"built {final.describe()} in {seconds:.0f} s")
    return final, seconds


def working_copy(cache: Db, workdir: Path, tag: str) -> tuple[Db, float]:
    """A copy of ``cache`` to run on (file copy, or CREATE DATABASE ... TEMPLATE)."""
    started = time.perf_counter()
    if cache.backend == "sqlite":
        copy = Db.sqlite(workdir / f"{tag}.db")
        drop(copy)
        shutil.copyfile(cache.path, copy.path)
        with open(copy.path, "rb+") as fh:  # written out now, not during the measurements
            os.fsync(fh.fileno())
        return copy, time.perf_counter() - started
    copy = Db.postgresql(f"bench_run_{os.getpid()}_{_slug(tag)}")
    drop_pg(copy.name)
    for attempt in range(30):  # autovacuum may be visiting the template for a moment
        try:
            with pg_admin() as conn:
                conn.execute(f'CREATE DATABASE "{copy.name}" TEMPLATE "{cache.name}" '
                             "STRATEGY FILE_COPY")
            break
        except Exception as error:
            if "being accessed by other users" not in str(error) or attempt == 29:
                raise
            time.sleep(1)
    return copy, time.perf_counter() - started


def prepare(backend: str, size: int, workdir: Path, tag: str | None = None) -> tuple[Db, dict]:
    """A database of about ``size`` ratings to run on (the caller drops it), and how it was
    made: build, copy and demo-year seconds."""
    tag = tag or f"{backend[:2]}_{size_label(size).lower()}"
    if size == 0:
        started = time.perf_counter()
        db = fresh_demo(backend, workdir, tag)
        return db, {"seed_seconds": round(time.perf_counter() - started, 1)}
    cache, built = build_cache(backend, size, workdir)
    db, copy_seconds = working_copy(cache, workdir, tag)
    try:
        started = time.perf_counter()
        tellers = demo_tellers(db)
        counts = load_year(db, tellers, working_days(date.today() - timedelta(days=1)),
                           PER_DAY, seed=2026, bulk=False)
        if db.backend == "postgresql":
            analyze(db)
            with pg_admin() as conn:  # written out now, not during the measurements
                conn.execute("CHECKPOINT")
        demo_seconds = time.perf_counter() - started
    except BaseException:
        drop(db)
        raise
    info = {"cache": cache.describe(), "cache_built_seconds": round(built, 1) if built else None,
            "cache_meta": read_meta(cache),
            "copy_seconds": round(copy_seconds, 1), "demo_year_seconds": round(demo_seconds, 1),
            "demo_year_ratings": counts["rating"]}
    return db, info


def rating_count(db: Db) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM rating"))


def today_iso() -> str:
    return datetime.now().date().isoformat()


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "migrate-seed":
        _migrate_and_seed_here(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: python -m bench.data migrate-seed URL INSTANCE")
