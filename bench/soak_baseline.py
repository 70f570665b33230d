"""The soak's bare baseline: a few-line Flask app under the same gunicorn settings.

GET / answers "ok"; POST /rate inserts one row (one transaction, committed before the 303)
into BASELINE_DATABASE: a SQLite file (WAL, synchronous=FULL, BEGIN IMMEDIATE, the
portal's pragmas) or a postgresql:// URL (psycopg). One connection per worker process.
"""
import os
import sqlite3

from flask import Flask, redirect, request

TARGET = os.environ.get("BASELINE_DATABASE", "baseline.db")
app = Flask(__name__)
_conn = None


def connection():
    global _conn  # one per worker process, opened after the fork
    if _conn is None:
        if TARGET.startswith("postgresql://"):
            import psycopg

            _conn = psycopg.connect(TARGET)
        else:
            _conn = sqlite3.connect(TARGET, isolation_level=None, timeout=10)
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
                _conn.execute(f"PRAGMA {pragma}")
    return _conn


@app.get("/")
def ok():
    return "ok"


@app.post("/rate")
def rate():
    conn, row = connection(), (int(request.form["stars"]), request.form["comment"])
    if isinstance(conn, sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO baseline_rating (stars, comment) VALUES (?, ?)", row)
        conn.execute("COMMIT")
    else:
        with conn.transaction():
            conn.execute("INSERT INTO baseline_rating (stars, comment) VALUES (%s, %s)", row)
    return redirect("/thanks", 303)
