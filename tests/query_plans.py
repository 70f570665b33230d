"""Capture the SQL a request runs and ask the database how it would run each statement.

A statement that reads a table growing with time (ratings, their day counts, complaints,
ledger entries, the audit trail …) without an index on that table costs more every day the
portal is used. ``unindexed_reads`` names every such read in a list of captured statements:

- SQLite: ``EXPLAIN QUERY PLAN`` with the planner's statistics set aside, so that it plans
  as for a table of any size; a ``SCAN <table>`` (with or without ``USING … INDEX``: a
  full pass over an index grows just as well) is a finding, a ``SEARCH`` is not.
- PostgreSQL: ``EXPLAIN (FORMAT JSON)`` with sequential scans priced out of reach
  (``enable_seqscan = off``), so that a ``Seq Scan`` left in the plan is one that no index
  can serve. On tables of a few rows PostgreSQL may still prefer a full pass over some
  index to a join that looks each row up, so a full index pass is left to the SQLite
  check, whose planner, without statistics, plans as for large tables on both counts.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event

GROWING_TABLES = frozenset({
    "rating", "rating_day", "rating_review", "invitation", "duty_session", "daily_transactions",
    "complaint", "complaint_event", "ledger_entry", "ledger_event", "points_proposal",
    "audit_event", "checklist_sheet", "checklist_mark", "checklist_event", "honour",
    "honour_event", "star_level",
})
PRINTED = int(__import__("os").environ.get("PLAN_PRINTED", "400"))  # characters of a statement shown
_SKIPPED = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|SET|SHOW|SELECT 1$)",
                      re.IGNORECASE)
_SQLITE_STEP = re.compile(r"^(SCAN|SEARCH) (\w+)(?: AS (\w+))?")


@dataclass(frozen=True)
class Finding:
    table: str
    plan: str
    statement: str

    def __str__(self) -> str:
        return f"{self.table}: {self.plan}\n    {' '.join(self.statement.split())[:PRINTED]}"


@contextmanager
def captured(engine):
    """Collect ``(statement, parameters)`` of everything ``engine`` runs inside the block."""
    statements: list[tuple[str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not executemany and not _SKIPPED.match(statement):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _sqlite_findings(cursor, statement: str, parameters) -> list[Finding]:
    cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
    found = []
    for row in cursor.fetchall():
        detail = row[-1]
        step = _SQLITE_STEP.match(detail)
        if step is None or step.group(1) != "SCAN":
            continue
        table = re.sub(r"_\d+$", "", step.group(2))  # SQLAlchemy's aliases: rating_1
        if table in GROWING_TABLES:
            found.append(Finding(table, detail, statement))
    return found


def _pg_nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _pg_nodes(child)


def _pg_findings(cursor, statement: str, parameters) -> list[Finding]:
    cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
    (plan,), = cursor.fetchall()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return [Finding(node["Relation Name"], f"Seq Scan on {node['Relation Name']}", statement)
            for node in _pg_nodes(plan[0]["Plan"])
            if node["Node Type"] == "Seq Scan" and node["Relation Name"] in GROWING_TABLES]


def unindexed_reads(engine, statements) -> list[Finding]:
    """Every read of a growing table among ``statements`` that no index serves.

    The statements are planned on a driver connection of their own, as the driver received
    them, inside a transaction that is rolled back.
    """
    findings: list[Finding] = []
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchall():
                cursor.execute("DELETE FROM sqlite_stat1")
                cursor.execute("ANALYZE sqlite_schema")  # the planner reloads: no statistics
            explain = _sqlite_findings
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            explain = _pg_findings
        seen = set()
        for statement, parameters in statements:
            if statement not in seen:
                seen.add(statement)
                findings.extend(explain(cursor, statement, parameters))
        cursor.close()
    finally:
        connection.rollback()
        connection.close()
    return findings
