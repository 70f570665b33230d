"""The SQL of one customer rating (GET the page, POST the form), captured in-process.

The portal is built with ``create_app`` on the bench database, the ten demo tellers open
their windows, a few ratings are sent through the test client to warm up, then at each
window every statement of a GET and a POST is recorded with SQLAlchemy's ``before_cursor_execute`` and
``after_cursor_execute`` events: text, parameters, executemany flag and time. The replay
baseline (bench/replay_app.py) runs exactly these statements with these parameters, except
for the values that belong to one customer: those put into a column with a unique
constraint (the rating's ``nonce``), so that repeated inserts do not collide, and the random
tokens that differ between two customers' POSTs (the phone's ``client_key``), so that the
replay reads and writes its indexes where the portal does. Each is replaced by a fresh
value of the same shape in every statement of the POST it appears in: random hex of the same
length, or, for a value that starts with the time in hex (a time-ordered nonce), the time of
the replay followed by random hex, so that both sides insert at the same end of an index.
"""
import pickle
import re
import secrets
import time
from pathlib import Path

from sqlalchemy import UniqueConstraint, event

from .common import Db
from .data import dispose, portal_app

#: the demo tellers, each on duty at the window of their number: the customers of the
#: bench spread over their ten windows, as a hall's customers do (one teller alone would
#: get every rating of the run, and the repeat rule, which reads the teller's last ten
#: minutes, would read all of them)
TELLERS = tuple(f"T100{i}" for i in range(1, 7)) + tuple(f"T200{i}" for i in range(1, 5))
WARM_PAIRS = 3
HEX_TOKEN = re.compile(r"[0-9a-f]{16,}")
TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK)\b", re.IGNORECASE)
INSERT = re.compile(r'^\s*INSERT INTO\s+"?(\w+)"?\s*\(([^)]*)\)\s*VALUES\s*\(', re.IGNORECASE | re.DOTALL)
STARS_COMMENT = {"stars": "5", "comment": "服务很好,谢谢"}


class Recorder:
    """Statements run on an engine while ``on`` is set: (text, params, many, seconds)."""

    def __init__(self, engine):
        self.engine, self.on, self.statements = engine, False, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            seconds = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
            self.statements.append((statement, parameters, executemany, seconds))

    def take(self) -> list:
        taken, self.statements = self.statements, []
        return taken

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def open_windows(app) -> list[str]:
    """Put every demo teller on duty at their window (T1001 at window 1 of ZJK-001, ...,
    T2004 at window 4 of ZJK-002); the windows' tokens, T1001's first."""
    from sqlalchemy import select

    from portal.blueprints.ratings import services
    from portal.blueprints.ratings.models import Window
    from portal.extensions import db
    from portal.models import Person
    from portal.timeutil import utcnow

    tokens = []
    with app.app_context():
        for work_no in TELLERS:
            teller = db.session.scalar(select(Person).where(Person.work_no == work_no))
            window = db.session.scalar(select(Window).where(
                Window.outlet_id == teller.org_unit_id, Window.number == int(work_no[-1])))
            services.open_window(teller, window, utcnow())
            tokens.append(window.token)
        db.session.remove()
    return tokens


def unique_columns() -> dict[str, set[str]]:
    """Per table, the columns that alone carry a unique constraint (primary keys aside)."""
    from portal.extensions import db

    found: dict[str, set[str]] = {}
    for table in db.metadata.tables.values():
        columns = {c.name for c in table.columns if c.unique and not c.primary_key}
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and len(constraint.columns) == 1:
                columns |= {c.name for c in constraint.columns}
        for index in table.indexes:
            if index.unique and len(index.columns) == 1:
                columns |= {c.name for c in index.columns}
        if columns:
            found[table.name] = columns
    return found


def _split_values(text: str) -> list[str]:
    """The items of the VALUES list that ``text`` starts with (after its opening
    parenthesis), split at top-level commas, up to the closing parenthesis."""
    items, depth, current = [], 0, []
    for ch in text:
        if ch == ")" and depth == 0:
            break
        if ch == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
            continue
        depth += ch == "("
        depth -= ch == ")"
        current.append(ch)
    items.append("".join(current).strip())
    return items


def fresh_slots(statement: str, parameters, uniques: dict[str, set[str]]) -> list:
    """Where an INSERT puts values into unique columns: (tuple index or dict key, kind)."""
    found = INSERT.match(statement)
    if not found or parameters is None:
        return []
    table, columns = found.group(1), [c.strip().strip('"') for c in found.group(2).split(",")]
    wanted = uniques.get(table, set())
    slots = []
    values = _split_values(statement[found.end():])
    for position, column in enumerate(columns):
        if column not in wanted:
            continue
        if isinstance(parameters, dict):
            name = re.match(r"%\((\w+)\)s", values[position])
            if name:
                slots.append((name.group(1), column))
        elif values[position] == "?":
            slots.append((sum(1 for v in values[:position] if v == "?"), column))
    return slots


def _values(parameters) -> list:
    if parameters is None:
        return []
    return list(parameters.values()) if isinstance(parameters, dict) else list(parameters)


def customer_values(post: list, other: list, uniques: dict[str, set[str]]) -> dict[str, str]:
    """The values of one customer in the POST's parameters, each with what it is: those put
    into unique columns, and random tokens that another customer's POST had otherwise."""
    found: dict[str, str] = {}
    for statement, parameters, _ in post:
        for key, column in fresh_slots(statement, parameters, uniques):
            value = parameters[key]
            if isinstance(value, str):
                found[value] = column
    if len(other) == len(post) and all(a[0] == b[0] for a, b in zip(post, other)):
        for (statement, mine, _), (_, theirs, _) in zip(post, other):
            for a, b in zip(_values(mine), _values(theirs)):
                if isinstance(a, str) and a != b and HEX_TOKEN.fullmatch(a):
                    found.setdefault(a, "per-customer token")
    return found


TIME_PREFIXES = ((16, 1), (14, 1000), (11, 1_000_000))  # hex digits of ns, µs, ms


def shape_of(value: str, now_ns: int) -> dict:
    """How to make a fresh value like ``value``: random hex, or the time in hex then random."""
    if HEX_TOKEN.fullmatch(value):
        for digits, unit_ns in TIME_PREFIXES:
            if len(value) > digits and abs(int(value[:digits], 16) * unit_ns - now_ns) < 86400e9:
                return {"kind": "time", "digits": digits, "unit_ns": unit_ns,
                        "length": len(value)}
    return {"kind": "hex", "length": len(value)}


def _pair(app, path: str, recorder: Recorder, record: bool):
    """One customer: GET the page and POST it; (GET, its SQL, POST, its SQL)."""
    client = app.test_client()  # a new phone: no session yet, its own rid
    client.set_cookie("rid", secrets.token_urlsafe(16))
    recorder.on = record
    got = client.get(path)
    get_sql = recorder.take()
    page = got.get_data(as_text=True)
    form = {"csrf_token": _field(page, "csrf_token"), "view_token": _field(page, "view_token"),
            **STARS_COMMENT}
    posted = client.post(path, data=form)
    post_sql = recorder.take()
    recorder.on = False
    if got.status_code != 200 or posted.status_code != 303:
        raise RuntimeError(f"rating in-process: GET {got.status_code}, POST {posted.status_code}")
    return got, get_sql, posted, post_sql


def _replayable(statements) -> list:
    return [(s, p, many) for s, p, many, _ in statements if not TRANSACTION_CONTROL.match(s)]


def capture_rating(db: Db, instance: Path, plan_path: Path) -> dict:
    """Open the ten windows, capture a GET and POST at each, write the replay plan; a
    summary (the statements are those of T1001's window)."""
    import logging

    app = portal_app(db, instance)
    logging.getLogger("portal").setLevel(logging.ERROR)
    paths = [f"/r/{token}" for token in open_windows(app)]
    from portal.extensions import db as portal_db

    with app.app_context():
        recorder = Recorder(portal_db.engine)
        uniques = unique_columns()
    plans, first = {}, None
    try:
        for _ in range(WARM_PAIRS):
            _pair(app, paths[0], recorder, False)
        for path in paths:
            _, _, _, other_post = _pair(app, path, recorder, True)  # another customer's values
            got, get_sql, posted, post_sql = _pair(app, path, recorder, True)
            post_plan = _replayable(post_sql)
            fresh = customer_values(post_plan, _replayable(other_post), uniques)
            page = got.get_data(as_text=True)
            plans[path] = {
                "get": _replayable(get_sql),
                "post": post_plan,
                "fresh": {value: shape_of(value, time.time_ns()) for value in fresh},
                "get_body": page,
                "get_set_cookie": got.headers.get("Set-Cookie", ""),
                "post_location": posted.headers.get("Location", f"{path}/thanks"),
            }
            if first is None:
                first = (get_sql, post_sql, page, fresh)
    finally:
        recorder.close()
        with app.app_context():
            dispose()
    plan = {"backend": db.backend,
            "target": str(db.path) if db.backend == "sqlite" else db.url,
            "paths": plans}
    plan_path.write_bytes(pickle.dumps(plan))
    get_sql, post_sql, page, fresh = first
    return {
        "paths": paths,
        "get_statements": len(get_sql), "post_statements": len(post_sql),
        "get_body_bytes": len(page.encode()),
        "fresh_values": sorted({f"{what} ({shape_of(value, time.time_ns())['kind']})"
                                for value, what in fresh.items()}),
        "sql": [{"request": kind, "ms": round(seconds * 1000, 3), "statement": short(s)}
                for kind, statements in (("GET", get_sql), ("POST", post_sql))
                for s, _, _, seconds in statements],
    }


def short(statement: str, limit: int = 160) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _field(page: str, name: str) -> str:
    found = re.search(r'name="%s"[^>]*?value="([^"]*)"' % re.escape(name), page)
    if not found:
        raise RuntimeError(f"no {name} in the rating page")
    return found.group(1)
