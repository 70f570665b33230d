"""The rating baseline: a bare Flask app replaying the portal's own SQL for one GET and POST.

``BENCH_REPLAY_PLAN`` names the pickle bench/capture.py wrote: for each window's path, the
statements with their parameters as the portal sent them to the driver, the GET's body and
Set-Cookie header and the POST's redirect. GET /r/<token> runs the GET's statements in one read transaction and
answers the captured page (same size, same form fields); POST runs the POST's statements in
one transaction committed once (SQLite: BEGIN IMMEDIATE, the portal's pragmas), with fresh
random values in place of the customer's own (the unique ``nonce``, the phone's
``client_key``: see bench/capture.py), and answers 303. One DBAPI connection per worker,
opened after the fork and kept, as the portal's pool keeps its connections.
"""
import os
import pickle
import secrets
import sqlite3
import time

from flask import Flask, make_response, redirect, request

with open(os.environ["BENCH_REPLAY_PLAN"], "rb") as fh:
    PLAN = pickle.load(fh)  # nosec B301: written by bench/capture.py in this very run

app = Flask(__name__)
_conn = None
LOCK_WAIT_MS = 10000  # as portal/database.py


def connection():
    global _conn
    if _conn is None:
        if PLAN["backend"] == "postgresql":
            import psycopg

            _conn = psycopg.connect(PLAN["target"].replace("postgresql+psycopg://",
                                                           "postgresql://"))
            _conn.execute(f"SET lock_timeout = {LOCK_WAIT_MS}")
            _conn.commit()
        else:
            _conn = sqlite3.connect(PLAN["target"], isolation_level=None,
                                    check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=FULL",
                           f"busy_timeout={LOCK_WAIT_MS}", "foreign_keys=ON"):
                _conn.execute(f"PRAGMA {pragma}")
    return _conn


def _fresh(shape: dict) -> str:
    """A value of the captured one's shape: lowercase hex of the same length, led by the
    time now when the captured value was led by the time of the capture."""
    length = shape["length"]
    lead = ""
    if shape["kind"] == "time":
        lead = f"{time.time_ns() // shape['unit_ns']:0{shape['digits']}x}"[-shape["digits"]:]
    return lead + secrets.token_hex(length // 2 + 1)[:length - len(lead)]


def _substituted(parameters, mapping: dict):
    if not mapping or parameters is None:
        return parameters
    if isinstance(parameters, dict):
        return {k: mapping.get(v, v) if isinstance(v, str) else v for k, v in parameters.items()}
    return [mapping.get(v, v) if isinstance(v, str) else v for v in parameters]


def _run(conn, statements, mapping=None) -> None:
    for statement, parameters, many in statements:
        if many:
            cursor = conn.cursor()
            cursor.executemany(statement, [_substituted(p, mapping) for p in parameters])
        else:
            cursor = conn.execute(statement, _substituted(parameters, mapping))
        if cursor.description is not None:
            cursor.fetchall()
        cursor.close()


@app.get("/healthz")
def healthz():
    return "ok"


@app.route("/r/<token>", methods=["GET", "POST"])
def rate(token: str):
    plan = PLAN["paths"].get(request.path)
    if plan is None:
        return "unknown window", 404
    conn = connection()
    if request.method == "GET":
        if PLAN["backend"] == "sqlite":
            conn.execute("BEGIN")
        try:
            _run(conn, plan["get"])
        finally:
            conn.rollback()  # the pool's reset on return, as the portal's session ends
        response = make_response(plan["get_body"])
        response.headers["Cache-Control"] = "no-store"
        if plan["get_set_cookie"]:
            response.headers["Set-Cookie"] = plan["get_set_cookie"]
        return response
    if not request.form.get("view_token") or not request.form.get("csrf_token"):
        return "bad form", 400
    if PLAN["backend"] == "sqlite":
        conn.execute("BEGIN IMMEDIATE")
    try:
        _run(conn, plan["post"], {value: _fresh(shape) for value, shape in plan["fresh"].items()})
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return redirect(plan["post_location"], 303)
