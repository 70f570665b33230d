"""The portal as the bench serves it under gunicorn: ``bench.portal_app:app``.

``create_app`` with rate limits off (RATELIMIT_ENABLED=False; the database and key come from
DATABASE_URL and SECRET_KEY as for wsgi.py), plus what the page baseline needs, from outside
the portal's code:

* in every worker, the Nth signed-in GET / of each person (BENCH_CAPTURE_ON_HIT, default 3,
  so that caches are warm) is captured: the template the view rendered and its context
  (flask's ``template_rendered`` signal, without the variables that context processors add,
  which are recomputed live), and every statement with its time (SQLAlchemy cursor events);
* GET /__bench/render renders ``render_template(<that template>, **<that context>)`` for the
  signed-in person: the same template from the same context, under the same session and user
  loading, without the queries that built the context;
* GET /__bench/capture describes this worker's capture for the signed-in person as JSON.
"""
import os
import time

from flask import (
    g,
    has_request_context,
    jsonify,
    render_template,
    request,
    template_rendered,
)
from flask_login import current_user, login_required
from sqlalchemy import event

from portal import create_app
from portal.extensions import db

CAPTURE_ON_HIT = int(os.environ.get("BENCH_CAPTURE_ON_HIT", "3"))

app = create_app({"RATELIMIT_ENABLED": False})

PROCESSOR_KEYS: set[str] = set()
_hits: dict[str, int] = {}
_captured: dict[str, dict] = {}


def _remember_keys(processor):
    def wrapped():
        values = processor()
        PROCESSOR_KEYS.update(values)
        return values

    wrapped.__name__ = getattr(processor, "__name__", "processor")
    return wrapped


for _name, _processors in list(app.template_context_processors.items()):
    app.template_context_processors[_name] = [_remember_keys(p) for p in _processors]


def _watch() -> None:
    """Record the statements and templates of every signed-in GET / (kept only for the Nth),
    and the statements of the first GET /__bench/render."""
    if request.method == "GET" and request.path in ("/", "/__bench/render"):
        g.bench_sql, g.bench_templates = [], []


app.before_request_funcs.setdefault(None, []).insert(0, _watch)

with app.app_context():
    _engine = db.engine


@event.listens_for(_engine, "before_cursor_execute")
def _before(conn, cursor, statement, parameters, context, executemany):
    if has_request_context() and g.get("bench_sql") is not None:
        conn.info["bench_started"] = time.perf_counter()


@event.listens_for(_engine, "after_cursor_execute")
def _after(conn, cursor, statement, parameters, context, executemany):
    if has_request_context() and g.get("bench_sql") is not None:
        started = conn.info.pop("bench_started", None)
        seconds = time.perf_counter() - started if started is not None else 0.0
        g.bench_sql.append((" ".join(statement.split()), seconds))


@template_rendered.connect_via(app)
def _rendered(sender, template, context, **extra):
    if has_request_context() and g.get("bench_templates") is not None:
        g.bench_templates.append((template.name, dict(context)))


@app.teardown_request
def _keep(exc):
    templates = g.get("bench_templates")
    if exc is not None or not templates or not current_user.is_authenticated:
        return
    work_no = current_user.work_no
    if request.path != "/":
        found = _captured.get(work_no)
        if found is not None and "render_statements" not in found:
            found["render_statements"] = list(g.bench_sql)
        return
    _hits[work_no] = _hits.get(work_no, 0) + 1
    if _hits[work_no] != CAPTURE_ON_HIT or work_no in _captured:
        return
    name, context = templates[-1]
    _captured[work_no] = {
        "template": name,
        "context": {k: v for k, v in context.items() if k not in PROCESSOR_KEYS},
        "templates_rendered": [n for n, _ in templates],
        "statements": list(g.bench_sql),
        "at": time.time(),
    }


@app.get("/__bench/render")
@login_required
def bench_render():
    found = _captured.get(current_user.work_no)
    if found is None:
        return f"nothing captured in worker {os.getpid()}", 409
    return render_template(found["template"], **found["context"])


@app.get("/__bench/capture")
@login_required
def bench_capture():
    found = _captured.get(current_user.work_no)
    if found is None:
        return jsonify({"pid": os.getpid(), "captured": False,
                        "hits": _hits.get(current_user.work_no, 0)})
    return jsonify({
        "pid": os.getpid(), "captured": True, "template": found["template"],
        "templates_rendered": found["templates_rendered"],
        "context_keys": sorted(found["context"]),
        "statements": len(found["statements"]),
        "sql_ms": round(sum(s for _, s in found["statements"]) * 1000, 3),
        "render_statements": [text[:200] for text, _ in found.get("render_statements", [])]
        if "render_statements" in found else None,
        "sql": [{"ms": round(s * 1000, 3), "statement": text[:400]}
                for text, s in found["statements"]],
    })
