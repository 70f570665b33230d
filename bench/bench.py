"""Benchmarks: each figure a ratio to the stack's own limit, measured in the same run.

    make bench                                    # or: .venv/bin/python -m bench.bench
    make bench BENCH_ARGS=--quick                 # sizes 0 and 100k, short wrk runs
    .venv/bin/python -m bench.bench --backends sqlite --sizes 0,1M --parts rate,pages
    .venv/bin/python -m bench.bench --rebuild     # build the cached 1M/10M databases anew
    .venv/bin/python -m bench.profile --page home --role teller --ratings 1M

Every figure is measured on SQLite and on PostgreSQL, at 0, 1M and 10M ratings, over real
HTTP: gunicorn with 2 sync workers driven by wrk from 127.0.0.1, each wrk thread with exactly
one connection. A figure alone says little on a shared 2-core machine; a ratio to a baseline
that does only the unavoidable part of the same work, on the same stack, in the same minute,
says how much the portal adds on top of it.

1. The customer's rating: GET /r/<window token> then POST the form (stars=5, a comment),
   pair after pair on each connection (bench/wrk/rate.lua: a fresh random ``rid`` phone
   cookie per pair, csrf_token and the one-time view_token read from the page, the session
   cookie carried to the POST; a pair counts on 303), at the ten demo tellers' windows in
   turn (each of them on duty). Rate limits are off in the bench app.
   Baseline: a bare Flask app (bench/replay_app.py) whose GET and POST run exactly the SQL
   statements, with their parameters, that the portal issued for one GET and one POST,
   captured in-process beforehand on the same database at each window (bench/capture.py);
   the POST in one transaction committed once (SQLite: BEGIN IMMEDIATE), with fresh random values for the
   customer's own (the unique nonce, the phone's client_key); the GET answers the captured
   page. Ratio = portal pairs/s / replay pairs/s: what the framework, forms, tokens and
   templates cost above the SQL itself. Goal >= 0.70; and the portal's pairs/s at 1M and
   10M within 10 % of the empty figure (the SQL must not grow with the table). On
   PostgreSQL the server's WAL per stored rating is printed too. The bench's customers
   are far denser than a hall's (hundreds a second for ten tellers), and every one comes
   from 127.0.0.1: reads of the last 10 minutes (the repeat rule per teller, the burst
   count per address) read much more than they would, on both sides alike.
2. Every role's home page "/" signed in through the real /login form as T1001, L0001, M0001,
   S0001 and A0001. Baseline: the same template rendered from the context one real request
   of that page built, captured in the same gunicorn worker (bench/portal_app.py), served by
   a bench-only view under the same session and user. Ratio = page req/s / render req/s:
   what building the context (queries, Python) costs next to rendering it.
   Goal >= 0.50, and flat: the ratio at 1M and 10M within 10 % of the ratio at 0.
   Statements per page (those of the captured request) are printed, with the slowest one.
3. import-ratings of 200k rows (run_import with the portal's importer, in-process) against a
   raw DBAPI executemany of the same 200k rows into a copy of the same freshly migrated
   database (same indexes, constraints and triggers as the real rating table). Goal <= 1.5x.

The two sides of each ratio are measured in alternating wrk runs (``--rounds``, default 2)
after a warm-up each, so that a change in the machine's load falls on both alike; before each
figure the bench waits, within a budget, for other processes to leave the CPU, and marks a
figure taken while they did not. Per-request statement times are those of the captured
request, under light load.

Sizes: 0 is the freshly seeded demo (``seed_demo(with_history=False)``); 1M and 10M are one
database shared by several branches (bench/data.py): the demo organisation with a realistic
year for its tellers, and a separate synthetic branch with the rest. The large databases are
built once per schema revision and cached (instance/bench/ and bench_cache_* databases);
every run works on a copy. Results go to bench/results/latest.json; the table to stdout.
"""
import argparse
import csv
import dataclasses
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

from .common import (  # noqa: F401
    BACKENDS,
    DEMO_PASSWORD,
    RESULTS_DIR,
    ROLES,
    ROOT,
    SECRET,
    Db,
    drop,
    drop_pg,
    parse_size,
    pg_admin,
    pg_answers,
    size_label,
)
from .server import failures

GOALS = {"rate_ratio": 0.70, "rate_vs_empty": 0.90, "page_ratio": 0.50, "page_vs_empty": 0.90,
         "import_ratio": 1.5}
MODES = {
    "full": {"sizes": "0,1M,10M", "rate_s": 15, "page_s": 8, "warm_s": 3, "import_rows": 200_000},
    "quick": {"sizes": "0,100k", "rate_s": 5, "page_s": 3, "warm_s": 1, "import_rows": 20_000},
}
PARTS = ("rate", "pages", "import")


def say(message: str) -> None:
    print(message, flush=True)


# --- 1. the customer's rating ------------------------------------------------------------------

def bench_rate(db: Db, folder: Path, portal_srv, args, plan_path: Path,
               capture_info: dict) -> dict:
    from . import data, server

    paths = capture_info["paths"]
    say("    rating: portal and SQL replay")
    before = data.rating_count(db)
    wal_before = pg_wal() if db.backend == "postgresql" else None
    quiet = args.quiet.wait()
    with server.Server("bench.replay_app:app", {"BENCH_REPLAY_PLAN": str(plan_path)},
                       folder / "replay.log") as replay_srv:
        found = server.alternate({"portal": ("rate.lua", portal_srv.url, paths),
                                  "replay": ("rate.lua", replay_srv.url, paths)},
                                 args.rate_s, args.warm_s, args.rounds, args.connections)
    portal, replay = found["portal"], found["replay"]
    stored = data.rating_count(db) - before
    wal = None
    if wal_before:  # the server's WAL during the runs, per rating stored (others' too)
        after = pg_wal()
        wal = {"kb_per_rating": round((after[2] - wal_before[2]) / 1024 / max(1, stored), 1),
               "full_page_images_per_rating": round((after[1] - wal_before[1]) / max(1, stored),
                                                    2)}
    acknowledged = sum(side["pairs_ok"] + (side["warm_up"] or {}).get("pairs_ok", 0)
                       for side in (portal, replay))
    runs = sum(side["runs"] + (side["warm_up"] is not None) for side in (portal, replay))
    return {"capture": capture_info, "portal": portal, "replay": replay, "machine": quiet,
            "ratio": ratio(portal["pairs_per_s"], replay["pairs_per_s"]),
            # a POST still in flight when wrk stops is stored but not counted by wrk
            "rows_stored": stored, "posts_acknowledged": acknowledged, "pg_wal": wal,
            "rows_check": acknowledged <= stored <= acknowledged + runs * args.connections}


def pg_wal() -> tuple[int, int, int] | None:
    """PostgreSQL's WAL counters so far (records, full-page images, bytes)."""
    try:
        with pg_admin() as conn:
            return tuple(int(v) for v in conn.execute(
                "SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal").fetchone())
    except Exception:  # an older server without pg_stat_wal: no WAL figures
        return None


def ratio(a, b):
    return round(a / b, 3) if a and b else None


# --- 2. home pages ---------------------------------------------------------------------------

def ensure_captured(port: int, cookies: dict, tries: int = 20) -> list[dict]:
    """The capture of each gunicorn worker for this session (GET / until both have one)."""
    from . import server

    def call(path):
        client = server.Http(port)
        client.cookies = dict(cookies)
        reply = client.call("GET", path)
        return json.loads(reply.body) if path.startswith("/__bench") else reply.status

    seen: dict[int, dict] = {}
    with ThreadPoolExecutor(server.WORKERS) as pool:  # one request per worker at a time
        for _ in range(tries):
            list(pool.map(call, ["/"] * server.WORKERS))
            for info in pool.map(call, ["/__bench/capture"] * server.WORKERS):
                if info.get("captured") or info["pid"] not in seen:
                    seen[info["pid"]] = info
            if len(seen) >= server.WORKERS and all(i.get("captured") for i in seen.values()):
                break
    return list(seen.values())


def bench_page(portal_srv, role: str, args) -> dict:
    from . import server

    work_no = ROLES[role]
    client = server.sign_in(portal_srv.port, work_no, DEMO_PASSWORD)
    cookie = client.cookie_header()
    ensure_captured(portal_srv.port, client.cookies)
    quiet = args.quiet.wait()
    found = server.alternate({"page": ("page.lua", portal_srv.url, ["/", cookie]),
                              "render": ("page.lua", portal_srv.url, ["/__bench/render", cookie])},
                             args.page_s, args.warm_s, args.rounds, args.connections)
    page, render = found["page"], found["render"]
    captures = ensure_captured(portal_srv.port, client.cookies)  # now with the render's SQL
    done = [c for c in captures if c.get("captured")]
    first = done[0] if done else {}
    slowest = sorted(first.get("sql", []), key=lambda s: -s["ms"])[:3]
    return {"work_no": work_no, "page": page, "render": render, "machine": quiet,
            "ratio": ratio(page["per_s"], render["per_s"]),
            "template": first.get("template"), "context_keys": first.get("context_keys"),
            "statements": first.get("statements"),
            "statements_per_worker": {str(c["pid"]): c.get("statements") for c in captures},
            "render_statements": first.get("render_statements"),
            "sql_ms": first.get("sql_ms"), "slowest_sql": slowest, "sql": first.get("sql")}


# --- one backend and size ---------------------------------------------------------------------

def bench_size(backend: str, size: int, folder: Path, args) -> dict:
    from . import capture, data, server

    label = size_label(size)
    say(f"[{backend} {label}] preparing the database")
    db, info = data.prepare(backend, size, folder)
    result = {"size": label, "db": info, "schema_key": data.schema_key()}
    try:
        result["ratings"] = data.rating_count(db)
        plan_path = folder / f"replay-{backend}-{label}.pickle"
        capture_info = capture.capture_rating(db, folder / "instance", plan_path)
        srv = server.Server("bench.portal_app:app", {"DATABASE_URL": db.url},
                            folder / f"portal-{backend}-{label}.log")
        try:
            srv.start()
            if "pages" in args.parts:
                result["pages"] = {}
                for role in args.roles:
                    say(f"    home page: {role} ({ROLES[role]})")
                    result["pages"][role] = bench_page(srv, role, args)
            if "rate" in args.parts:
                result["rate"] = bench_rate(db, folder, srv, args, plan_path, capture_info)
        finally:
            srv.stop()
        result["server_log"] = scan_log(srv.log)
    finally:
        from .data import dispose_quietly

        dispose_quietly()
        drop(db)
    return result


def scan_log(log: Path) -> dict:
    text = log.read_text(errors="replace") if log.exists() else ""
    return {"tracebacks": text.count("Traceback"), "worker_timeouts": text.count("WORKER TIMEOUT")}


# --- 3. import-ratings -------------------------------------------------------------------------

def bench_import(backend: str, folder: Path, rows: int) -> dict:
    from portal.blueprints.ratings.imports import RATING_IMPORTER
    from portal.imports import run_import
    from portal.timeutil import LOCAL_TZ

    from . import data

    say(f"[{backend}] import-ratings of {rows:,} rows")
    db = data.fresh_demo(backend, folder, "import")
    scratch = scratch_copy = None
    try:
        scratch, _ = data.working_copy(db, folder, "import_raw")
        if backend == "postgresql":
            scratch_copy, _ = data.working_copy(db, folder, "import_copy")
        conn = db.connect()
        tellers = conn.execute("SELECT work_no, id, org_unit_id FROM person WHERE role = "
                               "'teller' ORDER BY work_no").fetchall()
        conn.close()
        csv_path = folder / f"ratings-{backend}.csv"
        rng = random.Random(3)
        start = date.today() - timedelta(days=200)
        raw_rows = []
        with csv_path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["rated_at", "work_no", "stars", "channel"])
            for n in range(rows):
                day = start + timedelta(days=n * 200 // rows)
                local = datetime.combine(day, datetime.min.time()) + timedelta(
                    hours=9, seconds=rng.randrange(8 * 3600))
                work_no, pid, outlet = rng.choice(tellers)
                stars = rng.choice((4, 5, 5, 5, 5))
                channel = rng.choice(("device", "qr"))
                writer.writerow([local.strftime("%Y-%m-%d %H:%M:%S"), work_no, stars, channel])
                utc = local - LOCAL_TZ.utcoffset(local)
                if backend == "sqlite":  # as SQLAlchemy's SQLite types store them
                    raw_rows.append((pid, outlet, utc.isoformat(" ", "microseconds"),
                                     local.date().isoformat(), stars, "", "", "", channel, False))
                else:
                    raw_rows.append((pid, outlet, utc, local.date(), stars, "", "", "", channel,
                                     False))
        timings = {}

        def timed_apply(plans):
            started = time.perf_counter()
            RATING_IMPORTER.apply(plans)
            timings["apply"] = time.perf_counter() - started

        app = data.portal_app(db, folder / "instance")
        importer = dataclasses.replace(RATING_IMPORTER, apply=timed_apply)
        with app.app_context():
            started = time.perf_counter()
            imported = run_import(importer, csv_path)
            portal_seconds = time.perf_counter() - started
            data.dispose()
        raw_seconds = raw_executemany(scratch, raw_rows)
        copy_seconds = raw_copy(scratch_copy, raw_rows) if scratch_copy else None
        stored = [data.rating_count(d) for d in (db, scratch, scratch_copy) if d]
    finally:
        data.dispose_quietly()
        drop(db)
        drop(scratch)
        drop(scratch_copy)
    return {"rows": imported, "stored_portal_raw": stored,
            "raw_copy_seconds": round(copy_seconds, 2) if copy_seconds else None,
            "portal_seconds": round(portal_seconds, 2),
            "portal_insert_and_days_seconds": round(timings.get("apply", 0), 2),
            "portal_read_check_seconds": round(portal_seconds - timings.get("apply", 0), 2),
            "raw_seconds": round(raw_seconds, 2), "ratio": ratio(portal_seconds, raw_seconds)}


RAW_COLUMNS = ("person_id", "outlet_id", "rated_at", "local_date", "stars", "tags", "comment",
               "ticket_no", "channel", "flagged")


def raw_executemany(db: Db, rows: list[tuple]) -> float:
    """executemany of ``rows`` into the rating table with the portal's connection settings,
    in one transaction; the seconds from the first row to the commit."""
    marks = ", ".join(("?" if db.backend == "sqlite" else "%s") for _ in RAW_COLUMNS)
    sql = f"INSERT INTO rating ({', '.join(RAW_COLUMNS)}) VALUES ({marks})"  # nosec B608
    conn = db.connect()
    try:
        if db.backend == "sqlite":
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
                conn.execute(f"PRAGMA {pragma}")
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
        else:
            conn.execute("SET lock_timeout = 10000")
            conn.commit()
            started = time.perf_counter()
            with conn.cursor() as cursor:
                cursor.executemany(sql, rows)
            conn.commit()
        return time.perf_counter() - started
    finally:
        conn.close()


def raw_copy(db: Db, rows: list[tuple]) -> float:
    """PostgreSQL only, for reference: COPY of ``rows`` in one transaction; the seconds."""
    conn = db.connect()
    try:
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY rating ({', '.join(RAW_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started
    finally:
        conn.close()


# --- report ----------------------------------------------------------------------------------

def verdict(value, goal: float, at_least: bool = True) -> str:
    if value is None:
        return "n/a"
    return "ok" if (value >= goal if at_least else value <= goal) else "MISS"


def add_vs_empty(backend_result: dict) -> None:
    sizes = backend_result.get("sizes", {})
    empty = sizes.get("0")
    if not empty:
        return
    for label, r in sizes.items():
        if label == "0":
            continue
        if "rate" in r and "rate" in empty:
            r["rate"]["vs_empty"] = ratio(r["rate"]["portal"]["pairs_per_s"],
                                          empty["rate"]["portal"]["pairs_per_s"])
        for role, p in r.get("pages", {}).items():
            e = empty.get("pages", {}).get(role)
            if e:
                p["ratio_vs_empty"] = ratio(p["ratio"], e["ratio"])
                p["per_s_vs_empty"] = ratio(p["page"]["per_s"], e["page"]["per_s"])


def busy_note(figure: dict) -> str:
    m = figure.get("machine") or {}
    if not m.get("busy"):
        return ""
    return (f"  [machine busy: {m['busy_at_start'] * 100:.0f} % CPU used by others: "
            f"{', '.join(m.get('top_at_start') or [])}]")


def f(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


HEADER = (f"  {'figure':34} {'portal':>10} {'baseline':>10} {'ratio':>7} {'goal':>7}      "
          f"{'vs empty':>8} {'goal':>7}")


def figure_line(name: str, portal, baseline, value, goal: float, vs, vs_goal: float,
                note: str = "") -> str:
    line = (f"  {name:34} {f(portal):>10} {f(baseline):>10} {f(value, 2):>7} "
            f"{'>=' + str(goal):>7} {verdict(value, goal):4} ")
    if vs is not None:
        line += f"{f(vs, 2):>8} {'>=' + str(vs_goal):>7} {verdict(vs, vs_goal)}"
    return line + note


def detail_line(name: str, portal, baseline, rest: str) -> str:
    return f"  {'  ' + name:34} {portal!s:>10} {baseline!s:>10}   {rest}"


def rate_lines(rate: dict, g: dict) -> list[str]:
    p, q, c = rate["portal"], rate["replay"], rate["capture"]
    lines = [
        figure_line("rating GET+POST pairs/s", p["pairs_per_s"], q["pairs_per_s"],
                    rate["ratio"], g["rate_ratio"], rate.get("vs_empty"), g["rate_vs_empty"],
                    busy_note(rate)),
        detail_line("pair p50 / p99 ms", f"{f(p['pair_p50_ms'], 0)}/{f(p['pair_p99_ms'], 0)}",
                    f"{f(q['pair_p50_ms'], 0)}/{f(q['pair_p99_ms'], 0)}",
                    f"pairs ok {p['pairs_ok']:,} / {q['pairs_ok']:,}; non-2xx/3xx "
                    f"{failures(p)} / {failures(q)}"),
    ]
    slowest = max(c["sql"], key=lambda s: s["ms"]) if c.get("sql") else None
    lines.append(detail_line(
        "statements GET+POST", f"{c['get_statements']}+{c['post_statements']}", "the same",
        (f"slowest {slowest['ms']:.1f} ms: {slowest['statement'][:70]}" if slowest else "")))
    bad = [(k, v) for k, v in (("portal", p), ("replay", q))
           if v["get_fail"] or v["post_fail"] or v["parse_fail"] or v["lost"] or failures(v)]
    for k, v in bad:
        lines.append(f"    FAILURES {k}: GET {v['get_fail']}, POST {v['post_fail']}, unparsed "
                     f"{v['parse_fail']}, lost {v['lost']}, statuses {v['statuses']}, "
                     f"errors {v['errors']}")
    if rate.get("pg_wal"):
        w = rate["pg_wal"]
        lines.append(detail_line("WAL per stored rating", f"{w['kb_per_rating']} kB",
                                 f"{w['full_page_images_per_rating']} FPI",
                                 "both sides together (server-wide counters)"))
    if not rate.get("rows_check", True):
        lines.append(f"    ROWS: {rate['rows_stored']} stored for {rate['posts_acknowledged']} "
                     "acknowledged")
    return lines


def page_lines(role: str, pg: dict, g: dict) -> list[str]:
    rendered = pg.get("render_statements")
    slow = pg["slowest_sql"][0] if pg.get("slowest_sql") else None
    lines = [
        figure_line(f"home {role} ({pg['work_no']}) req/s", pg["page"]["per_s"],
                    pg["render"]["per_s"], pg["ratio"], g["page_ratio"],
                    pg.get("ratio_vs_empty"), g["page_vs_empty"], busy_note(pg)),
        detail_line("statements", pg["statements"], "?" if rendered is None else len(rendered),
                    f"SQL {f(pg['sql_ms'], 1)} ms; p50/p99 {f(pg['page']['p50_ms'], 0)}/"
                    f"{f(pg['page']['p99_ms'], 0)} vs {f(pg['render']['p50_ms'], 0)}/"
                    f"{f(pg['render']['p99_ms'], 0)} ms"
                    + (f"; slowest {slow['ms']:.1f} ms: {slow['statement'][:60]}" if slow else "")),
    ]
    fails = failures(pg["page"]) + failures(pg["render"])
    if fails:
        lines.append(f"    FAILED {fails}: statuses {pg['page']['statuses']} / "
                     f"{pg['render']['statuses']}")
    return lines


def made_note(r: dict) -> str:
    db = r.get("db", {})
    if "copy_seconds" not in db:
        return f"seeded in {db.get('seed_seconds', 0):.0f} s"
    meta = db.get("cache_meta") or {}
    built = (f"cache built now in {db['cache_built_seconds']:.0f} s" if db.get(
        "cache_built_seconds") else f"cache built {meta.get('built_at', '?')} in "
                                    f"{meta.get('build_seconds', 0):.0f} s")
    return (f"{built}; copied in {db['copy_seconds']:.0f} s, demo year added in "
            f"{db['demo_year_seconds']:.0f} s")


def import_line(backend: str, imp: dict, g: dict) -> str:
    if "error" in imp:
        return f"{backend} · import-ratings: FAILED: {imp['error'].strip().splitlines()[-1]}"
    return (f"{backend} · import-ratings {imp['rows']:,} rows: portal {imp['portal_seconds']:.2f}"
            f" s (read+check {imp['portal_read_check_seconds']:.2f} s, insert+rating_day "
            f"{imp['portal_insert_and_days_seconds']:.2f} s) / raw executemany "
            f"{imp['raw_seconds']:.2f} s = {f(imp['ratio'], 2)}x; goal <= {g['import_ratio']}x "
            f"{verdict(imp['ratio'], g['import_ratio'], False)}"
            + (f" (for reference, raw COPY {imp['raw_copy_seconds']:.2f} s)"
               if imp.get("raw_copy_seconds") else ""))


def table(results: dict) -> str:
    g, n = GOALS, results["settings"]["connections"]
    lines = [f"bench {results['when']} ({results['mode']}); {results['machine']['cores']} cores;"
             f" wrk -t{n} -c{n}; gunicorn 2 sync workers; schema {results['schema_key']}"]
    for backend, b in results["backends"].items():
        if "skipped" in b:
            lines += ["", f"{backend}: SKIPPED ({b['skipped']})"]
            continue
        for label, r in b.get("sizes", {}).items():
            lines.append("")
            if "error" in r:
                lines.append(f"{backend} · {label}: FAILED: "
                             f"{r['error'].strip().splitlines()[-1]}")
                continue
            lines.append(f"{backend} · {label} ratings ({r.get('ratings', 0):,} rows; "
                         f"{made_note(r)})")
            lines.append(HEADER)
            if r.get("rate"):
                lines += rate_lines(r["rate"], g)
            for role, pg in r.get("pages", {}).items():
                lines += page_lines(role, pg, g)
        if b.get("import"):
            lines += ["", import_line(backend, b["import"], g)]
    lines.append("")
    lines.append(f"took {results['seconds'] / 60:.1f} min"
                 + (f", of which building caches {results['build_seconds'] / 60:.1f} min"
                    if results.get("build_seconds") else ""))
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 0,100k; short runs")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--sizes", help="comma-separated ratings: 0,100k,1M,10M (default "
                                        "0,1M,10M; --quick 0,100k)")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated: rate, pages, "
                                                                 "import")
    parser.add_argument("--roles", default=",".join(ROLES), help="comma-separated: "
                                                                 + ", ".join(ROLES))
    parser.add_argument("--connections", type=int, default=8,
                        help="wrk threads, one connection each (default 8)")
    parser.add_argument("--seconds", type=float, help="wrk measuring seconds for every figure")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating runs of each side of a ratio (default 2)")
    parser.add_argument("--import-rows", type=int)
    parser.add_argument("--rebuild", action="store_true",
                        help="drop the cached large databases first and build them again")
    parser.add_argument("--output", default=str(RESULTS_DIR / "latest.json"))
    args = parser.parse_args(argv)
    mode = MODES["quick" if args.quick else "full"]
    args.mode = "quick" if args.quick else "full"
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.sizes = [parse_size(s) for s in (args.sizes or mode["sizes"]).split(",")]
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    args.roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    for value, allowed, what in ((args.backends, BACKENDS, "backend"), (args.parts, PARTS, "part"),
                                 (args.roles, tuple(ROLES), "role")):
        wrong = [v for v in value if v not in allowed]
        if wrong:
            parser.error(f"unknown {what}: {', '.join(wrong)}")
    args.rate_s = args.seconds or mode["rate_s"]
    args.page_s = args.seconds or mode["page_s"]
    args.warm_s = mode["warm_s"]
    args.import_rows = args.import_rows or mode["import_rows"]
    from .server import Quiet

    args.quiet = Quiet()
    return args


def rebuild_caches(backends: list[str]) -> None:
    from . import data

    if "sqlite" in backends:
        for path in data.CACHE_DIR.glob("sqlite-*.db*"):
            path.unlink()
    if "postgresql" in backends and pg_answers():
        for name in data._pg_databases("bench\\_cache\\_%"):
            drop_pg(name)


def _terminated(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")  # so that every finally: cleans up


def main(argv=None) -> None:
    import signal

    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGHUP, _terminated)
    args = parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian: apt-get install wrk)")
    import logging

    from . import data

    started = time.perf_counter()
    if args.rebuild:
        rebuild_caches(args.backends)
    results = {"when": datetime.now().isoformat(timespec="seconds"), "mode": args.mode,
               "schema_key": data.schema_key(),
               "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                           "python": platform.python_version(),
                           "load_start": [round(x, 2) for x in os.getloadavg()]},
               "settings": {"connections": args.connections, "rate_seconds": args.rate_s,
                            "page_seconds": args.page_s, "warm_seconds": args.warm_s,
                            "rounds": args.rounds,
                            "sizes": [size_label(s) for s in args.sizes], "parts": args.parts,
                            "import_rows": args.import_rows},
               "goals": GOALS, "backends": {}}
    build_seconds = 0.0
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    logging.getLogger("portal").setLevel(logging.ERROR)
    try:
        for backend in args.backends:
            if backend == "postgresql" and not pg_answers():
                results["backends"][backend] = {"skipped": "no PostgreSQL server answers"}
                say("PostgreSQL SKIPPED: no server answers")
                continue
            b = results["backends"][backend] = {"sizes": {}}
            if {"rate", "pages"} & set(args.parts):
                for size in args.sizes:
                    try:
                        r = bench_size(backend, size, folder, args)
                    except Exception:
                        r = {"error": traceback.format_exc()}
                        say(r["error"])
                    b["sizes"][size_label(size)] = r
                    build_seconds += (r.get("db", {}).get("cache_built_seconds") or 0)
                add_vs_empty(b)
            if "import" in args.parts:
                try:
                    b["import"] = bench_import(backend, folder, args.import_rows)
                except Exception:
                    b["import"] = {"error": traceback.format_exc()}
                    say(b["import"]["error"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        leftovers = leftover_databases()
        for name in leftovers:
            drop_pg(name)
    results["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["build_seconds"] = round(build_seconds, 1)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    say("\n" + table(results))
    say(f"details: {out}")


def leftover_databases() -> list[str]:
    """This run's working databases (bench_run_<pid>_*), should any have survived."""
    try:
        with pg_admin() as conn:
            return [name for (name,) in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (f"bench\\_run\\_{os.getpid()}\\_%",))]
    except Exception:  # PostgreSQL not there: nothing was made on it
        return []


if __name__ == "__main__":
    main()
