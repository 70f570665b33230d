"""Load and fault soak: the portal under gunicorn (4 workers) on SQLite and on PostgreSQL.

    make soak                         # or: .venv/bin/python -m bench.soak
    make soak SOAK_ARGS=--quick       # smaller runs, 3 kills instead of 10
    .venv/bin/python -m bench.soak --backend sqlite --quick

Each backend gets a fresh instance (a temporary SQLite file; a PostgreSQL database
``soak_<pid>`` on ``--pg-url``, dropped afterwards) made with ``init-db``, ``seed-demo`` and
``import-org``/``import-staff`` (10 extra outlets, 5 managers, 5 tellers and a lobby manager
each), then the scenarios of docs/reliability.md run against real HTTP:

1. 200 concurrent rating submissions, then a sustained stream (2,000 over 60 s);
2. 50 managers working at once while ratings arrive, 5 of them racing for each of 10
   complaints (one owner each);
3. kill -9 of gunicorn (master and workers) during a burst of writes, 10 times;
4. another process holding the database's write lock 10 s (and 13 s, longer than the
   portal's busy_timeout): 503 with Retry-After, never 500, no partial rows;
5. ``flask backup`` (PostgreSQL: ``pg_dump``) while ratings are written, then the restore of
   docs/operations.md performed and verified.

Every synthetic customer and manager is a different address: the server runs with
``TRUSTED_PROXIES=1`` (an existing, documented setting) and each client sends its own
``X-Forwarded-For``, so the per-address rate limits and the per-phone repeat rule apply as
they would to 200 different phones; no limit is lowered or switched off.

As in bench/bench.py, figures are set against a bare baseline measured in the same run: a
few-line Flask app (bench/soak_baseline.py) answering "ok" and inserting one row, under the
same gunicorn settings and the same concurrency. Results go to bench/results/soak-latest.json
and a summary to stdout; the exit status is 1 when a check failed.
"""
import argparse
import html
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench import SECRET  # noqa: E402  the same production-grade key as the bench

BIN = Path(sys.executable).parent
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "soak-pass-2026"
OUTLETS = 10
MANAGERS_PER_OUTLET = 5
TELLERS_PER_OUTLET = 5
LEAKS = ("database is locked", "Traceback", "OperationalError", "could not serialize",
         "deadlock detected", "psycopg")
NETWORK_ERRORS = (OSError, http.client.HTTPException)


# --- HTTP, one connection per request (gunicorn's sync workers close them anyway) --------------

class Reply:
    def __init__(self, status: int, headers, body: str, seconds: float):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds


class Http:
    """A browser-like client: its own cookies and its own address (X-Forwarded-For)."""

    def __init__(self, port: int, ip: str, timeout: float = 60):
        self.port, self.ip, self.timeout, self.cookies = port, ip, timeout, {}

    def call(self, method: str, path: str, form: dict | None = None) -> Reply:
        body = urlencode(form, doseq=True).encode() if form is not None else None
        headers = {"X-Forwarded-For": self.ip, "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        seconds = time.perf_counter() - started
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Reply(response.status, response.headers, data.decode("utf-8", "replace"), seconds)


def field(page: str, name: str) -> str | None:
    """The value of the input called ``name`` in ``page`` (the first one)."""
    found = re.search(r'name="%s"[^>]*?value="([^"]*)"' % re.escape(name), page)
    return html.unescape(found.group(1)) if found else None


def form_part(page: str, form_id: str) -> str:
    """The HTML of the form with id ``form_id`` (empty when the page has none)."""
    start = page.find(f'id="{form_id}"')
    return page[start:page.find("</form>", start)] if start >= 0 else ""


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999999) - 1))]


class Tally:
    """What the clients saw: statuses, latencies per kind of request, leaked errors."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.latency = defaultdict(list)
        self.network_errors = 0
        self.leaks = 0
        self.no_retry_after = 0
        self.unexpected = Counter()

    def add(self, kind: str, reply: Reply, expected=(200, 302, 303)) -> Reply:
        with self.lock:
            self.statuses[reply.status] += 1
            self.latency[kind].append(reply.seconds)
            if any(text in reply.body for text in LEAKS):
                self.leaks += 1
            if reply.status == 503 and not reply.headers.get("Retry-After"):
                self.no_retry_after += 1
            if reply.status not in expected and reply.status not in (409, 503):
                self.unexpected[f"{kind}:{reply.status}"] += 1
        return reply

    def failed(self) -> None:
        with self.lock:
            self.network_errors += 1

    def summary(self, kinds=None) -> dict:
        kinds = kinds or sorted(self.latency)
        times = [t for kind in kinds for t in self.latency[kind]]
        return {
            "requests": sum(self.statuses.values()),
            "5xx": sum(n for s, n in self.statuses.items() if s >= 500 and s != 503),
            "503": self.statuses[503], "409": self.statuses[409],
            "503_without_retry_after": self.no_retry_after,
            "errors_shown_to_users": self.leaks, "network_errors": self.network_errors,
            "unexpected": dict(self.unexpected),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "latency_of": "+".join(kinds),
            "p50_ms": ms(pct(times, 0.50)), "p95_ms": ms(pct(times, 0.95)),
            "max_ms": ms(max(times) if times else None),
        }


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


# --- the instance: database, people, windows, the gunicorn server ------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def plain_pg(url: str) -> str:
    """A libpq URL for psycopg / pg_dump from a SQLAlchemy one."""
    return url.replace("postgresql+psycopg://", "postgresql://")


class Server:
    """gunicorn in its own process group, so kill -9 reaches the master and every worker."""

    def __init__(self, app: str, env: dict, workers: int, log: Path):
        self.app, self.env, self.workers, self.log = app, env, workers, log
        self.port = free_port()
        self.proc = None

    def start(self, wait: float = 60) -> float:
        """Start and return the seconds until /healthz (or /) first answered 200."""
        started = time.perf_counter()
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "--workers", str(self.workers),
                 "--bind", f"127.0.0.1:{self.port}", self.app],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        path = "/healthz" if self.app == "wsgi:app" else "/"
        while time.perf_counter() - started < wait:
            try:
                if Http(self.port, "127.0.0.1", timeout=5).call("GET", path).status == 200:
                    return time.perf_counter() - started
            except NETWORK_ERRORS:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            time.sleep(0.02)
        raise RuntimeError(f"gunicorn did not answer in {wait} s; see {self.log}")

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill9()


class Instance:
    """A throw-away portal instance on ``backend`` under ``folder``."""

    def __init__(self, backend: str, folder: Path, pg_url: str = PG_URL, workers: int = 4):
        self.backend, self.folder, self.workers = backend, folder, workers
        self.pg_admin = pg_url
        if backend == "sqlite":
            self.db_path = folder / "portal.db"
            self.url = f"sqlite:///{self.db_path}"
        else:
            self.db_name = f"soak_{os.getpid()}_{int(time.time() * 1000) % 100000}"
            self.url = pg_url.rsplit("/", 1)[0] + "/" + self.db_name
        self.env = {**os.environ, "SECRET_KEY": SECRET, "DATABASE_URL": self.url,
                    "TRUSTED_PROXIES": "1", "BASE_URL": "http://127.0.0.1", "FLASK_APP": "wsgi",
                    "PYTHONDONTWRITEBYTECODE": "1"}
        self.env.pop("RATELIMIT_STORAGE_URI", None)
        self.log = folder / "gunicorn.log"
        self.server = Server("wsgi:app", self.env, workers, self.log)
        self.windows: list[str] = []  # tokens of the windows open for rating
        self.outlets: list[dict] = []  # code, managers, tellers, complaint id

    # database -----------------------------------------------------------------------------
    def create_database(self) -> None:
        if self.backend == "postgresql":
            import psycopg

            with psycopg.connect(plain_pg(self.pg_admin), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.db_name}"')

    def drop_database(self) -> None:
        if self.backend == "postgresql":
            import psycopg

            with psycopg.connect(plain_pg(self.pg_admin), autocommit=True) as conn:
                for name in (self.db_name, self.db_name + "_restore"):
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run ``sql`` (with ? placeholders) on the instance's database, outside the portal."""
        return run_sql(self.backend, self.url, sql, params)

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, check=check)

    # set-up -------------------------------------------------------------------------------
    def build(self, history: bool = True, outlets: int = OUTLETS,
              managers: int = MANAGERS_PER_OUTLET, tellers: int = TELLERS_PER_OUTLET) -> dict:
        """init-db, seed-demo, the extra outlets and people, open windows, 10 complaints."""
        started = time.perf_counter()
        self.create_database()
        if history:
            self.flask("init-db")
            self.flask("seed-demo")
        else:  # the durability test: the demo organisation without its six months of history
            with self.app().app_context():
                from flask_migrate import upgrade

                from portal import MIGRATIONS
                from portal.demo import seed_demo

                upgrade(directory=MIGRATIONS)
                seed_demo(with_history=False)
                dispose()
        org, staff = self.folder / "org.csv", self.folder / "staff.csv"
        rows, people = ["code,name,kind,parent_code,windows"], [
            "work_no,name,role,outlet_code,joined_on,password"]
        for n in range(1, outlets + 1):
            code = f"ZJK-{100 + n}"
            rows.append(f"{code},压测网点{n},outlet,ZJK-YYB,{tellers}")
            people.append(f"L{100 + n}00,压测大堂{n},lobby_manager,{code},2024-01-01,{PASSWORD}")
            bosses = [f"M{100 + n}{m:02d}" for m in range(1, managers + 1)]
            staff_of = [f"T{100 + n}{t:02d}" for t in range(1, tellers + 1)]
            people += [f"{w},压测经理{w[1:]},outlet_manager,{code},2024-01-01,{PASSWORD}"
                       for w in bosses]
            people += [f"{w},压测柜员{w[1:]},teller,{code},2024-01-01,{PASSWORD}"
                       for w in staff_of]
            self.outlets.append({"code": code, "managers": bosses, "tellers": staff_of})
        org.write_text("\n".join(rows) + "\n", encoding="utf-8")
        staff.write_text("\n".join(people) + "\n", encoding="utf-8")
        self.flask("import-org", str(org))
        self.flask("import-staff", str(staff))
        self._open_windows_and_complaints()
        return {"setup_seconds": round(time.perf_counter() - started, 1),
                "demo_history": history}

    def app(self):
        from portal import create_app

        return create_app({"SQLALCHEMY_DATABASE_URI": self.url, "SECRET_KEY": SECRET},
                          instance_path=str(self.folder / "instance"))

    def _open_windows_and_complaints(self) -> None:
        from sqlalchemy import select

        from portal.blueprints.complaints import services as complaints
        from portal.blueprints.ratings import services as ratings
        from portal.blueprints.ratings.models import Window
        from portal.extensions import db
        from portal.models import OrgUnit, Person
        from portal.timeutil import utcnow

        with self.app().app_context():
            for outlet in self.outlets:
                unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == outlet["code"]))
                for number, work_no in enumerate(outlet["tellers"], start=1):
                    teller = db.session.scalar(select(Person).where(Person.work_no == work_no))
                    window = db.session.scalar(select(Window).where(
                        Window.outlet_id == unit.id, Window.number == number))
                    ratings.open_window(teller, window, utcnow())
                    self.windows.append(window.token)
                complaint = complaints.create(complaints.NewComplaint(
                    channel="web", outlet=unit, category="attitude",
                    description="压测:5 位经理同时认领的投诉"), recorder=None, now=utcnow())
                db.session.commit()
                outlet["complaint"] = complaint.id
            dispose()


def dispose() -> None:
    from portal.extensions import db

    db.session.remove()
    db.engine.dispose()


def run_sql(backend: str, url: str, sql: str, params: tuple = ()) -> list[tuple]:
    if backend == "sqlite":
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(plain_pg(url)) as conn:
        cursor = conn.execute(sql.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []


# --- customers ------------------------------------------------------------------------------

class Customers:
    """Synthetic customers: each one a new phone (cookies) at a new address."""

    def __init__(self, port_of, windows: list[str], run: str, baseline: bool = False):
        self.port_of, self.windows, self.run, self.baseline = port_of, windows, run, baseline
        self.counter = 0
        self.lock = threading.Lock()

    def _next(self) -> tuple[int, str]:
        with self.lock:
            self.counter += 1
            n = self.counter
        return n, f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def prepare(self, label: str, tally: Tally):
        """Open the rating page (GET): the client with its one-time form, or None."""
        n, ip = self._next()
        client = Http(self.port_of(), ip)
        marker = f"soak-{self.run}-{label}-{n}"
        if self.baseline:
            tally.add("get", client.call("GET", "/"))
            return client, "/rate", {"stars": "5", "comment": marker}, marker
        token = self.windows[n % len(self.windows)]
        reply = tally.add("get", client.call("GET", f"/r/{token}"))
        if reply.status != 200:
            return None
        form = {"csrf_token": field(reply.body, "csrf_token"),
                "view_token": field(reply.body, "view_token"), "stars": str(5 - n % 2),
                "comment": marker}
        return client, f"/r/{token}", form, marker

    @staticmethod
    def submit(prepared, tally: Tally, acked: set, expected=(200, 302, 303)) -> None:
        client, path, form, marker = prepared
        reply = tally.add("post", client.call("POST", path, form), expected)
        if reply.status == 303 and reply.headers.get("Location", "").endswith("/thanks"):
            with tally.lock:
                acked.add(marker)

    def once(self, label: str, tally: Tally, acked: set) -> None:
        try:
            prepared = self.prepare(label, tally)
            if prepared is not None:
                self.submit(prepared, tally, acked)
        except NETWORK_ERRORS:
            tally.failed()


def burst(customers: Customers, label: str, count: int) -> tuple[Tally, set, float]:
    """``count`` customers open the page, then all submit at the same moment."""
    tally, acked = Tally(), set()
    with ThreadPoolExecutor(count) as pool:
        prepared = [p for p in pool.map(lambda _: customers.prepare(label, tally), range(count))
                    if p is not None]
    gate = threading.Barrier(len(prepared))

    def go(p):
        gate.wait()
        try:
            customers.submit(p, tally, acked)
        except NETWORK_ERRORS:
            tally.failed()

    started = time.perf_counter()
    with ThreadPoolExecutor(len(prepared)) as pool:
        list(pool.map(go, prepared))
    return tally, acked, time.perf_counter() - started


def stream(customers: Customers, label: str, per_second: float, *, total: int | None = None,
           stop: threading.Event | None = None, threads: int = 48,
           tally: Tally | None = None, acked: set | None = None) -> tuple[Tally, set, float]:
    """Customers arriving at ``per_second`` (open loop) until ``total`` or ``stop``."""
    tally = tally if tally is not None else Tally()
    acked = acked if acked is not None else set()
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        n = 0
        while (total is None or n < total) and not (stop is not None and stop.is_set()):
            delay = started + n / per_second - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(customers.once, label, tally, acked)
            n += 1
    return tally, acked, time.perf_counter() - started


def stored(inst: Instance, label: str, run: str, table: str = "rating",
           column: str = "comment") -> Counter:
    rows = inst.query(f"SELECT {column}, COUNT(*) FROM {table} WHERE {column} LIKE ? "  # nosec B608: fixed names
                      f"GROUP BY {column}", (f"soak-{run}-{label}-%",))
    return Counter({marker: n for marker, n in rows})


def rows_check(inst: Instance, label: str, run: str, acked: set, table="rating") -> dict:
    found = stored(inst, label, run, table)
    return {"acknowledged": len(acked), "stored": sum(found.values()),
            "lost": len(acked - set(found)), "duplicates": sum(n - 1 for n in found.values()),
            "stored_not_acknowledged": len(set(found) - acked)}


# --- scenarios --------------------------------------------------------------------------------

def scenario_burst(inst, customers, run, count) -> dict:
    tally, acked, seconds = burst(customers, "burst", count)
    return {**rows_check(inst, "burst", run, acked), **tally.summary(["post"]),
            "get_p95_ms": ms(pct(tally.latency["get"], 0.95)),
            "acknowledged_per_s": round(len(acked) / seconds, 1)}


def scenario_double_submit(inst, customers, run, count) -> dict:
    """Customers tapping "submit" twice: the same one-time form posted twice at once gives one
    row, one thank-you, and a designed refusal (409 replayed form, or 429 rated just now)."""
    tally, acked = Tally(), set()
    with ThreadPoolExecutor(count) as pool:
        prepared = [p for p in pool.map(lambda _: customers.prepare("double", tally),
                                        range(count)) if p is not None]
    taps = [p for p in prepared for _ in range(2)]
    gate = threading.Barrier(len(taps))

    def go(p):
        gate.wait()
        try:
            customers.submit(p, tally, acked, expected=(303, 409, 429))
        except NETWORK_ERRORS:
            tally.failed()

    with ThreadPoolExecutor(len(taps)) as pool:
        list(pool.map(go, taps))
    return {**rows_check(inst, "double", run, acked), **tally.summary(["post"]),
            "customers": len(prepared), "thank_you_pages": tally.statuses[303],
            "refused_409_or_429": tally.statuses[409] + tally.statuses[429]}


def scenario_complaints(inst, run, count) -> dict:
    """Customers sending the public complaint form at the same moment: one ticket each."""
    tally, acked, port = Tally(), set(), inst.server.port
    codes = [outlet["code"] for outlet in inst.outlets]

    def prepare(n):
        client = Http(port, f"10.240.{n // 250}.{n % 250 + 1}")
        page = tally.add("get", client.call("GET", "/complaints/new")).body
        return client, n, {"csrf_token": field(page, "csrf_token"), "outlet": codes[n % len(codes)],
                           "category": "waiting", "description": f"soak-{run}-complaint-{n}",
                           "customer_phone": "13800138000", "teller": ""}

    with ThreadPoolExecutor(count) as pool:
        prepared = list(pool.map(prepare, range(count)))
    gate = threading.Barrier(count)

    def go(item):
        client, n, form = item
        gate.wait()
        try:
            reply = tally.add("post", client.call("POST", "/complaints/new", form))
        except NETWORK_ERRORS:
            tally.failed()
            return
        if reply.status == 303 and reply.headers.get("Location", "").endswith("/thanks"):
            with tally.lock:
                acked.add(form["description"])

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(go, prepared))
    rows = inst.query("SELECT description, ticket FROM complaint WHERE description LIKE ?",
                      (f"soak-{run}-complaint-%",))
    found = Counter(description for description, _ in rows)
    return {"acknowledged": len(acked), "stored": len(rows), "lost": len(acked - set(found)),
            "duplicates": sum(n - 1 for n in found.values()),
            "duplicate_tickets": len(rows) - len({ticket for _, ticket in rows}),
            **tally.summary(["post"])}


def scenario_sustained(inst, customers, run, total, seconds) -> dict:
    tally, acked, took = stream(customers, "sustained", total / seconds, total=total)
    return {**rows_check(inst, "sustained", run, acked), **tally.summary(["post"]),
            "planned_seconds": seconds, "took_seconds": round(took, 1),
            "acknowledged_per_s": round(len(acked) / took, 1)}


def sign_in(port: int, work_no: str, ip: str, tally: Tally) -> Http:
    client = Http(port, ip)
    page = tally.add("login", client.call("GET", "/login")).body
    reply = tally.add("login", client.call("POST", "/login", {
        "work_no": work_no, "password": PASSWORD, "csrf_token": field(page, "csrf_token")}))
    if reply.status not in (302, 303):
        raise RuntimeError(f"{work_no} could not sign in: {reply.status}")
    return client


def scenario_managers(inst, customers, run, rounds, ratings_per_s) -> dict:
    """50 managers sign in, race for 10 complaints, then work while ratings arrive."""
    from portal.timeutil import local_today

    tally, port, today = Tally(), inst.server.port, local_today().isoformat()
    crew = [(outlet, slot, work_no) for outlet in inst.outlets
            for slot, work_no in enumerate(outlet["managers"])]
    stop, background = threading.Event(), {}
    rating_thread = threading.Thread(target=lambda: background.update(
        zip(("tally", "acked", "seconds"),
            stream(customers, "during-managers", ratings_per_s, stop=stop))))
    rating_thread.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(len(crew)) as pool:
        clients = list(pool.map(
            lambda c: sign_in(port, c[2], f"10.250.{crew.index(c) // 250}.{crew.index(c) % 250 + 1}",
                              tally), crew))

    # the race: all five managers of an outlet saw the complaint, then all claim it at once
    claims, gate = Counter(), threading.Barrier(len(crew))
    winners = {}

    def claim(i):
        outlet, _, work_no = crew[i]
        client, cid = clients[i], outlet["complaint"]
        part = form_part(tally.add("page", client.call("GET", f"/complaints/{cid}")).body,
                         "form-transfer")
        form = {"csrf_token": field(part, "csrf_token"), "version": field(part, "version"),
                "receiver": work_no, "reason": "压测认领"}
        gate.wait()
        reply = tally.add("claim", client.call("POST", f"/complaints/{cid}/transfer", form))
        with tally.lock:
            claims[reply.status] += 1
        if reply.status != 303:
            return
        winners[cid] = work_no
        part = form_part(tally.add("page", client.call("GET", f"/complaints/{cid}")).body,
                         "form-accept")
        reply = tally.add("claim", client.call("POST", f"/complaints/{cid}/accept", {
            "csrf_token": field(part, "csrf_token"), "version": field(part, "version")}))
        with tally.lock:
            claims[f"accept {reply.status}"] += 1

    with ThreadPoolExecutor(len(crew)) as pool:
        list(pool.map(claim, range(len(crew))))

    created, confirmed = set(), set()

    def work(i):
        outlet, slot, work_no = crew[i]
        client, teller = clients[i], outlet["tellers"][slot]
        for k in range(rounds):
            for path in ("/", "/ratings/outlet", "/ledger/outlet"):
                tally.add("page", client.call("GET", path))
            page = tally.add("page", client.call("GET", "/ledger/new")).body
            marker = f"soak-{run}-ledger-{work_no}-{k}"
            reply = tally.add("ledger", client.call("POST", "/ledger/new", {
                "csrf_token": field(page, "csrf_token"), "person": teller, "rule": "A01",
                "day": today, "points": "", "money": "", "reason": marker, "evidence": ""}))
            if reply.status != 303:
                continue
            with tally.lock:
                created.add(marker)
            page = tally.add("page", client.call("GET", f"/ledger/people/{teller}")).body
            ids = [int(x) for x in re.findall(r'name="confirm-(\d+)-version"', page)]
            if not ids:
                continue
            prefix = f"confirm-{max(ids)}"
            reply = tally.add("ledger", client.call("POST", f"/ledger/entries/{max(ids)}/confirm", {
                f"{prefix}-csrf_token": field(page, f"{prefix}-csrf_token"),
                f"{prefix}-version": field(page, f"{prefix}-version")}))
            if reply.status == 303:
                with tally.lock:
                    confirmed.add(marker)

    with ThreadPoolExecutor(len(crew)) as pool:
        list(pool.map(work, range(len(crew))))
    took = time.perf_counter() - started
    stop.set()
    rating_thread.join()

    ids = [outlet["complaint"] for outlet in inst.outlets]
    marks = ",".join("?" * len(ids))
    state = inst.query(
        f"SELECT c.id, p.work_no, c.transfer_to_id, c.transfers FROM complaint c "  # nosec B608: fixed names
        f"JOIN person p ON p.id = c.handler_id WHERE c.id IN ({marks})", tuple(ids))
    events = Counter((cid, action) for cid, action in inst.query(
        f"SELECT complaint_id, action FROM complaint_event WHERE complaint_id IN ({marks})",  # nosec B608: fixed names
        tuple(ids)))
    one_owner = all(winners.get(cid) == handler and transfer_to is None and transfers == 1
                    and events[(cid, "transfer")] == 1 and events[(cid, "accept")] == 1
                    for cid, handler, transfer_to, transfers in state) and len(state) == len(ids)
    ledger = inst.query("SELECT reason, status FROM ledger_entry WHERE reason LIKE ?",
                        (f"soak-{run}-ledger-%",))
    ledger_count = Counter(reason for reason, _ in ledger)
    ratings = rows_check(inst, "during-managers", run, background["acked"])
    return {
        "managers": len(crew), "rounds": rounds, "took_seconds": round(took, 1),
        **tally.summary(["page", "ledger", "claim", "login"]),
        "page_p95_ms": ms(pct(tally.latency["page"], 0.95)),
        "claims": {str(k): v for k, v in sorted(claims.items(), key=str)},
        "complaints_with_one_owner": sum(1 for cid, *_ in state if winners.get(cid)),
        "one_owner_each": one_owner,
        "ledger_created_acknowledged": len(created), "ledger_rows": sum(ledger_count.values()),
        "ledger_duplicates": sum(n - 1 for n in ledger_count.values()),
        "ledger_lost": len(created - set(ledger_count)),
        "ledger_confirmed_acknowledged": len(confirmed),
        "ledger_confirmed_rows": sum(1 for _, status in ledger if status == "confirmed"),
        "ratings_meanwhile": {**ratings, **background["tally"].summary(["post"])},
    }


def scenario_kills(inst, customers, run, times, writers=32) -> dict:
    """kill -9 of gunicorn during a burst of writes; every acknowledged rating survives."""
    rounds, rng = [], random.Random(11)
    for k in range(times):
        label, stop = f"kill{k}", threading.Event()
        tally, acked = Tally(), set()

        def writer():
            while not stop.is_set():
                customers.once(label, tally, acked)

        threads = [threading.Thread(target=writer) for _ in range(writers)]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(1.5, 3.0))
        inst.server.kill9()
        stop.set()
        for thread in threads:
            thread.join()
        restart = inst.server.start()
        first, first_acked = Tally(), set()
        customers.once(f"after{k}", first, first_acked)
        check = rows_check(inst, label, run, acked)
        integrity = (inst.query("PRAGMA integrity_check")[0][0] if inst.backend == "sqlite"
                     else "n/a")
        rounds.append({**check, "restart_to_healthz_s": round(restart, 2),
                       "first_rating_after_restart_acknowledged": len(first_acked) == 1,
                       "integrity": integrity,
                       "5xx": tally.summary()["5xx"], "leaks": tally.leaks})
    return {
        "kills": times, "acknowledged": sum(r["acknowledged"] for r in rounds),
        "stored": sum(r["stored"] for r in rounds), "lost": sum(r["lost"] for r in rounds),
        "duplicates": sum(r["duplicates"] for r in rounds),
        "stored_not_acknowledged": sum(r["stored_not_acknowledged"] for r in rounds),
        "5xx": sum(r["5xx"] for r in rounds),
        "errors_shown_to_users": sum(r["leaks"] for r in rounds),
        "restart_to_healthz_s_max": max(r["restart_to_healthz_s"] for r in rounds),
        "restart_to_healthz_s_mean": round(sum(r["restart_to_healthz_s"] for r in rounds)
                                           / len(rounds), 2),
        "first_rating_after_restart_all_acknowledged": all(
            r["first_rating_after_restart_acknowledged"] for r in rounds),
        "integrity_all_ok": all(r["integrity"] in ("ok", "n/a") for r in rounds),
        "rounds": rounds,
    }


HOLD_SQLITE = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
print("released", flush=True)
"""
HOLD_PG = """
import sys, time, psycopg
with psycopg.connect(sys.argv[1]) as conn:
    conn.execute("LOCK TABLE rating IN EXCLUSIVE MODE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.rollback()
print("released", flush=True)
"""


def scenario_lock(inst, customers, run, seconds, posts=40) -> dict:
    """Another process holds the write lock: 503 with Retry-After (or a wait), never 500."""
    label = f"lock{int(seconds)}"
    tally, acked = Tally(), set()
    with ThreadPoolExecutor(posts) as pool:
        prepared = [p for p in pool.map(lambda _: customers.prepare(label, tally), range(posts))
                    if p]
    target = str(inst.db_path) if inst.backend == "sqlite" else plain_pg(inst.url)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SQLITE if inst.backend == "sqlite"
                               else HOLD_PG, target, str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    locked_at = time.perf_counter()
    health = Http(inst.server.port, "127.0.0.1").call("GET", "/healthz")
    gate = threading.Barrier(len(prepared))

    def go(p):
        gate.wait()
        try:
            customers.submit(p, tally, acked)
        except NETWORK_ERRORS:
            tally.failed()

    with ThreadPoolExecutor(len(prepared)) as pool:
        list(pool.map(go, prepared))
    holder.wait()
    released_at = time.perf_counter()
    after, after_acked = Tally(), set()
    for _ in range(5):
        customers.once(f"after{label}", after, after_acked)
    recovered = time.perf_counter() - released_at
    check = rows_check(inst, label, run, acked)
    partial = day_mismatch(inst)
    return {**check, **tally.summary(["post"]), "hold_seconds": seconds,
            "healthz_during_lock": health.status,
            "all_answered_after_s": round(released_at - locked_at, 1),
            "after_release_acknowledged": f"{len(after_acked)}/5",
            "after_release_seconds": round(recovered, 2),
            "rating_day_mismatches": partial}


def day_mismatch(inst) -> int:
    """Outlets of the soak whose per-day counts differ from their rating rows (partial writes)."""
    codes = tuple(outlet["code"] for outlet in inst.outlets)
    marks = ",".join("?" * len(codes))
    rows = dict(inst.query(
        f"SELECT r.outlet_id, COUNT(*) FROM rating r JOIN org_unit u ON u.id = r.outlet_id "  # nosec B608: fixed names
        f"WHERE u.code IN ({marks}) GROUP BY r.outlet_id", codes))
    days = dict(inst.query(
        f"SELECT d.outlet_id, SUM(d.ratings) FROM rating_day d JOIN org_unit u "  # nosec B608: fixed names
        f"ON u.id = d.outlet_id WHERE u.code IN ({marks}) GROUP BY d.outlet_id", codes))
    return sum(1 for key in set(rows) | set(days) if rows.get(key, 0) != (days.get(key) or 0))


def scenario_backup(inst, customers, run, total, seconds) -> dict:
    """An online backup while ratings are written, then the documented restore."""
    tally, acked = Tally(), set()
    writer = threading.Thread(target=stream, args=(customers, "backup", total / seconds),
                              kwargs={"total": total, "tally": tally, "acked": acked})
    writer.start()
    time.sleep(seconds / 3)
    with tally.lock:
        before = set(acked)  # acknowledged before the backup started
    started = time.perf_counter()
    copy = inst.folder / "backup" / ("portal-copy.db" if inst.backend == "sqlite" else "portal.dump")
    copy.parent.mkdir(exist_ok=True)
    if inst.backend == "sqlite":
        done = inst.flask("backup", str(copy), check=False)
    else:
        done = subprocess.run(["pg_dump", "-Fc", "-f", str(copy), plain_pg(inst.url)],
                              capture_output=True, text=True)
    backup_seconds = time.perf_counter() - started
    writer.join()
    result = {"backup_exit": done.returncode,
              "backup_output": (done.stdout + done.stderr).strip()[-300:],
              "backup_seconds": round(backup_seconds, 2), **rows_check(inst, "backup", run, acked),
              **tally.summary(["post"]), "acknowledged_before_backup": len(before)}
    if done.returncode != 0:
        return result
    if inst.backend == "sqlite":
        result.update(check_sqlite_copy(inst, copy, run, before))
        result.update(restore_sqlite(inst, copy))
    else:
        result.update(restore_pg(inst, copy, run, before))
    return result


def check_sqlite_copy(inst, copy: Path, run: str, before: set) -> dict:
    conn = sqlite3.connect(copy)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        in_copy = {m for (m,) in conn.execute("SELECT comment FROM rating WHERE comment LIKE ?",
                                              (f"soak-{run}-backup-%",))}
    finally:
        conn.close()
    app = __import__("portal").create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}", "SECRET_KEY": SECRET},
        instance_path=str(inst.folder / "copy-instance"))
    with app.app_context():
        opens = app.test_client().get("/healthz").status_code
        dispose()
    return {"copy_integrity": integrity, "copy_opens_with_portal": opens,
            "copy_holds_everything_acknowledged_before": before <= in_copy,
            "copy_ratings_of_burst": len(in_copy)}


def restore_sqlite(inst, copy: Path) -> dict:
    """docs/operations.md, "Restore": stop, copy, remove -wal/-shm, start, verify."""
    expected = run_sql("sqlite", f"sqlite:///{copy}", "SELECT COUNT(*) FROM rating")[0][0]
    inst.server.stop()
    shutil.copyfile(copy, inst.db_path)
    for suffix in ("-wal", "-shm"):
        Path(f"{inst.db_path}{suffix}").unlink(missing_ok=True)
    started = inst.server.start()
    health = Http(inst.server.port, "127.0.0.1").call("GET", "/healthz").status
    count = inst.query("SELECT COUNT(*) FROM rating")[0][0]
    return {"restore_healthz": health, "restore_start_s": round(started, 2),
            "restored_ratings": count, "restore_count_matches_copy": count == expected}


def restore_pg(inst, dump: Path, run: str, before: set) -> dict:
    """pg_restore of the dump into a new database, checked like the SQLite copy."""
    import psycopg

    name = inst.db_name + "_restore"
    with psycopg.connect(plain_pg(inst.pg_admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = inst.url.rsplit("/", 1)[0] + "/" + name
    done = subprocess.run(["pg_restore", "--no-owner", "-d", plain_pg(url), str(dump)],
                          capture_output=True, text=True)
    in_copy = {m for (m,) in run_sql("postgresql", url, "SELECT comment FROM rating WHERE "
                                     "comment LIKE ?", (f"soak-{run}-backup-%",))}
    app = __import__("portal").create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET},
                                          instance_path=str(inst.folder / "copy-instance"))
    with app.app_context():
        opens = app.test_client().get("/healthz").status_code
        dispose()
    return {"restore_exit": done.returncode, "copy_opens_with_portal": opens,
            "copy_holds_everything_acknowledged_before": before <= in_copy,
            "copy_ratings_of_burst": len(in_copy)}


# --- the bare baseline --------------------------------------------------------------------------

def baseline(inst, run: str, burst_count: int, total: int, seconds: float) -> dict:
    """The same burst and stream against bench/soak_baseline.py under the same gunicorn."""
    if inst.backend == "sqlite":
        target = str(inst.folder / "baseline.db")
        conn = sqlite3.connect(target)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE baseline_rating (id INTEGER PRIMARY KEY, stars INTEGER,"
                     " comment TEXT)")
        conn.close()
        url = f"sqlite:///{target}"
    else:
        target = plain_pg(inst.url)
        run_sql("postgresql", inst.url, "CREATE TABLE baseline_rating "
                "(id SERIAL PRIMARY KEY, stars INTEGER, comment TEXT)")
        url = inst.url
    env = {**inst.env, "BASELINE_DATABASE": target}
    server = Server("bench.soak_baseline:app", env, inst.workers, inst.folder / "baseline.log")
    bare_start = server.start()
    try:
        bare = Customers(lambda: server.port, [], run, baseline=True)
        b_tally, b_acked, b_seconds = burst(bare, "base-burst", burst_count)
        s_tally, s_acked, s_seconds = stream(bare, "base-sustained", total / seconds, total=total)
    finally:
        server.stop()

    def rows(label, acked):
        found = Counter({m: n for m, n in run_sql(
            inst.backend, url, "SELECT comment, COUNT(*) FROM baseline_rating WHERE comment "
            "LIKE ? GROUP BY comment", (f"soak-{run}-{label}-%",))})
        return {"acknowledged": len(acked), "stored": sum(found.values()),
                "lost": len(acked - set(found)), "duplicates": sum(n - 1 for n in found.values())}

    return {
        "start_to_first_200_s": round(bare_start, 2),
        "burst": {**rows("base-burst", b_acked), **b_tally.summary(["post"]),
                  "acknowledged_per_s": round(len(b_acked) / b_seconds, 1)},
        "sustained": {**rows("base-sustained", s_acked), **s_tally.summary(["post"]),
                      "took_seconds": round(s_seconds, 1),
                      "acknowledged_per_s": round(len(s_acked) / s_seconds, 1)},
    }


def ratios(portal: dict, bare: dict) -> dict:
    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    return {"p95_vs_baseline": ratio(portal["p95_ms"], bare["p95_ms"]),
            "p50_vs_baseline": ratio(portal["p50_ms"], bare["p50_ms"]),
            "throughput_vs_baseline": ratio(portal["acknowledged_per_s"],
                                            bare["acknowledged_per_s"])}


# --- one backend, checks, report ------------------------------------------------------------------

SIZES = {
    False: {"burst": 200, "sustained": (2000, 60.0), "rounds": 5, "manager_ratings": 5.0,
            "kills": 10, "locks": (10.0, 13.0), "backup": (400, 12.0)},
    True: {"burst": 200, "sustained": (300, 15.0), "rounds": 2, "manager_ratings": 4.0,
           "kills": 3, "locks": (10.0, 13.0), "backup": (120, 6.0)},
}


def run_backend(backend: str, quick: bool, pg_url: str) -> dict:
    size, run = SIZES[quick], f"{backend[:2]}{os.getpid()}"
    folder = Path(tempfile.mkdtemp(prefix=f"soak-{backend}-"))
    inst = Instance(backend, folder, pg_url)
    result = {"backend": backend}
    try:
        result["setup"] = inst.build(history=True)
        result["setup"]["first_start_to_healthz_s"] = round(inst.server.start(), 2)
        customers = Customers(lambda: inst.server.port, inst.windows, run)
        print(f"[{backend}] burst", flush=True)
        result["burst"] = scenario_burst(inst, customers, run, size["burst"])
        print(f"[{backend}] double submit", flush=True)
        result["double_submit"] = scenario_double_submit(inst, customers, run, 50)
        print(f"[{backend}] complaints", flush=True)
        result["complaints"] = scenario_complaints(inst, run, 50)
        print(f"[{backend}] sustained", flush=True)
        result["sustained"] = scenario_sustained(inst, customers, run, *size["sustained"])
        print(f"[{backend}] managers", flush=True)
        result["managers"] = scenario_managers(inst, customers, run, size["rounds"],
                                               size["manager_ratings"])
        print(f"[{backend}] kill -9", flush=True)
        result["kill9"] = scenario_kills(inst, customers, run, size["kills"])
        for seconds in size["locks"]:
            print(f"[{backend}] held lock {seconds:.0f} s", flush=True)
            result[f"held_lock_{int(seconds)}s"] = scenario_lock(inst, customers, run, seconds)
        print(f"[{backend}] backup", flush=True)
        result["backup"] = scenario_backup(inst, customers, run, *size["backup"])
        result["consistency"] = {"rating_day_mismatches": day_mismatch(inst)}
        inst.server.stop()
        print(f"[{backend}] baseline", flush=True)
        result["baseline"] = baseline(inst, run, size["burst"], *size["sustained"])
        result["vs_baseline"] = {
            "burst": ratios(result["burst"], result["baseline"]["burst"]),
            "sustained": ratios(result["sustained"], result["baseline"]["sustained"]),
            "restart_vs_bare_start": round(result["kill9"]["restart_to_healthz_s_mean"]
                                           / result["baseline"]["start_to_first_200_s"], 2)}
        result["server_log"] = scan_log(inst.log)
    except Exception:  # a scenario broke: keep what was measured, say where it stopped
        result["error"] = traceback.format_exc()
        print(result["error"], file=sys.stderr, flush=True)
    finally:
        inst.server.stop()
        dispose_quietly()
        inst.drop_database()
        shutil.rmtree(folder, ignore_errors=True)
    result["problems"] = problems(result)
    return result


def dispose_quietly() -> None:
    try:
        dispose()
    except Exception:  # nosec B110 - no app was ever made: nothing to dispose of
        pass


def scan_log(log: Path) -> dict:
    text = log.read_text(errors="replace") if log.exists() else ""
    return {"busy_warnings": text.count("database busy"),
            "tracebacks": text.count("Traceback"),
            "unhandled_errors": text.count("unhandled error") + text.count("database error")}


def problems(result: dict) -> list[str]:
    """Every failed check, in words."""
    found = [f"stopped by an error: {result['error'].strip().splitlines()[-1]}"] \
        if result.get("error") else []
    for name in ("burst", "sustained"):
        r = result.get(name, {})
        if r.get("lost") or r.get("duplicates") or r.get("5xx") or r.get("errors_shown_to_users"):
            found.append(f"{name}: lost {r.get('lost')}, duplicates {r.get('duplicates')}, "
                         f"5xx {r.get('5xx')}, errors shown {r.get('errors_shown_to_users')}")
        if r.get("unexpected"):
            found.append(f"{name}: unexpected statuses {r['unexpected']}")
    c = result.get("complaints", {})
    if c and (c["lost"] or c["duplicates"] or c["duplicate_tickets"] or c["5xx"]
              or c["unexpected"] or c["acknowledged"] != 50):
        found.append(f"complaints: {c}")
    d = result.get("double_submit", {})
    if d and (d["lost"] or d["duplicates"] or d["5xx"] or d["unexpected"]
              or d["thank_you_pages"] != d["customers"] or d["stored"] != d["customers"]):
        found.append(f"double_submit: {d}")
    m = result.get("managers", {})
    if m:
        if m["5xx"] or m["errors_shown_to_users"] or m["unexpected"]:
            found.append(f"managers: 5xx {m['5xx']}, shown {m['errors_shown_to_users']}, "
                         f"unexpected {m['unexpected']}")
        if not m["one_owner_each"]:
            found.append(f"managers: complaints without exactly one owner: {m['claims']}")
        if m["409"] != m["claims"].get("409", 0):
            found.append("managers: a 409 outside the complaint race")
        if (m["ledger_rows"] != m["ledger_created_acknowledged"] or m["ledger_duplicates"]
                or m["ledger_confirmed_rows"] != m["ledger_confirmed_acknowledged"]):
            found.append("managers: ledger rows differ from acknowledged creations/confirmations")
        r = m["ratings_meanwhile"]
        if r["lost"] or r["duplicates"] or r["5xx"]:
            found.append(f"managers: ratings meanwhile lost {r['lost']}, dup {r['duplicates']}")
    k = result.get("kill9", {})
    if k and (k["lost"] or k["duplicates"] or k["5xx"] or not k["integrity_all_ok"]
              or not k["first_rating_after_restart_all_acknowledged"]):
        found.append(f"kill9: lost {k['lost']}, dup {k['duplicates']}, 5xx {k['5xx']}")
    for key in [key for key in result if key.startswith("held_lock")]:
        r = result[key]
        if r["5xx"] or r["lost"] or r["duplicates"] or r["503_without_retry_after"] \
                or r["errors_shown_to_users"] or r["rating_day_mismatches"] \
                or r["after_release_acknowledged"] != "5/5":
            found.append(f"{key}: 5xx {r['5xx']}, lost {r['lost']}, 503 without Retry-After "
                         f"{r['503_without_retry_after']}, after release "
                         f"{r['after_release_acknowledged']}")
    b = result.get("backup", {})
    if b and (b.get("backup_exit") or not b.get("copy_holds_everything_acknowledged_before")
              or b.get("copy_opens_with_portal") != 200 or b.get("lost")
              or b.get("copy_integrity", "ok") != "ok"
              or b.get("restore_count_matches_copy") is False or b.get("restore_exit")):
        found.append(f"backup: {b}")
    if result.get("consistency", {}).get("rating_day_mismatches"):
        found.append("rating_day counts differ from rating rows")
    if result.get("server_log", {}).get("unhandled_errors"):
        found.append(f"server log: {result['server_log']}")
    return found


TABLE = ("burst", "double_submit", "complaints", "sustained", "managers", "kill9", "held_lock_10s", "held_lock_13s", "backup")


def summary(results: dict) -> str:
    lines = [f"soak {results['when']} ({results['mode']}); {results['machine']['cores']} cores, "
             f"load {results['machine']['load_start']} -> {results['machine']['load_end']} "
             "(shared machine: latencies are pessimistic)",
             f"{'backend':10} {'scenario':14} {'req':>6} {'ack':>6} {'stored':>6} {'dup':>4} "
             f"{'5xx':>4} {'503':>4} {'409':>4} {'p50ms':>8} {'p95ms':>8} {'maxms':>8}"]
    for backend, r in results["backends"].items():
        for name in TABLE:
            s = r.get(name)
            if not s:
                continue
            ack = s.get("acknowledged", s.get("ledger_created_acknowledged", ""))
            store = s.get("stored", s.get("ledger_rows", ""))
            dup = s.get("duplicates", s.get("ledger_duplicates", ""))
            lines.append(f"{backend:10} {name:14} {s.get('requests', ''):>6} {ack:>6} {store:>6} "
                         f"{dup:>4} {s.get('5xx', ''):>4} {s.get('503', ''):>4} "
                         f"{s.get('409', ''):>4} {str(s.get('p50_ms', '')):>8} "
                         f"{str(s.get('p95_ms', '')):>8} {str(s.get('max_ms', '')):>8}")
        for name in ("burst", "sustained"):
            base = r.get("baseline", {}).get(name)
            if base:
                lines.append(f"{backend:10} {'bare ' + name:14} {base['requests']:>6} "
                             f"{base['acknowledged']:>6} {base['stored']:>6} "
                             f"{base['duplicates']:>4} {base['5xx']:>4} {base['503']:>4} "
                             f"{base['409']:>4} {str(base['p50_ms']):>8} "
                             f"{str(base['p95_ms']):>8} {str(base['max_ms']):>8}")
        if "vs_baseline" in r:
            lines.append(f"{backend:10} ratios vs bare Flask: {json.dumps(r['vs_baseline'])}")
        if "kill9" in r:
            k = r["kill9"]
            lines.append(f"{backend:10} kill -9 x{k['kills']}: lost {k['lost']}, restart to "
                         f"/healthz 200 mean {k['restart_to_healthz_s_mean']} s, max "
                         f"{k['restart_to_healthz_s_max']} s")
        if "managers" in r:
            m = r["managers"]
            lines.append(f"{backend:10} complaint race {m['claims']}, one owner each: "
                         f"{m['one_owner_each']}; ledger created {m['ledger_created_acknowledged']}"
                         f" = rows {m['ledger_rows']}, confirmed {m['ledger_confirmed_rows']}")
        if "backup" in r:
            b = r["backup"]
            lines.append(f"{backend:10} backup {b['backup_seconds']} s under load, copy holds all "
                         f"acknowledged before: {b.get('copy_holds_everything_acknowledged_before')}"
                         f", restore verified: {b.get('restore_count_matches_copy', b.get('restore_exit') == 0)}")
        lines.append(f"{backend:10} problems: {r['problems'] or 'none'}")
    return "\n".join(lines)


def pg_answers(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(plain_pg(url), connect_timeout=3):
            return True
    except Exception:  # any failure to connect means: skip PostgreSQL, said in the report
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, 3 kills")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get("SOAK_PG_URL", PG_URL),
                        help="an administrative PostgreSQL URL (a database is made and dropped)")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {"when": datetime.now().isoformat(timespec="seconds"),
               "mode": "quick" if args.quick else "full",
               "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                           "python": platform.python_version(),
                           "load_start": [round(x, 2) for x in os.getloadavg()]},
               "backends": {}, "skipped": {}}
    for backend in backends:
        if backend == "postgresql" and not pg_answers(args.pg_url):
            results["skipped"]["postgresql"] = f"no PostgreSQL server answers at {args.pg_url}"
            print(f"PostgreSQL SKIPPED: {results['skipped']['postgresql']}", flush=True)
            continue
        results["backends"][backend] = run_backend(backend, args.quick, args.pg_url)
    results["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "soak-latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(summary(results))
    print(f"details: {out / 'soak-latest.json'}")
    failed = any(r["problems"] for r in results["backends"].values())
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
