"""Command-line interface: ``flask --app wsgi COMMAND`` (see README and CONTRACT.md)."""
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from .database import refresh_statistics
from .errors import DomainError
from .extensions import db
from .imports import Importer, ImportRefused, file_name, run_import
from .timeutil import utcnow


def init_app(app: Flask) -> None:
    """Register the portal's commands."""
    from .blueprints.admin.imports import ORG_IMPORTER, STAFF_IMPORTER
    from .blueprints.complaints.imports import COMPLAINT_IMPORTER
    from .blueprints.ledger.imports import LEDGER_IMPORTER
    from .blueprints.ratings.imports import RATING_IMPORTER, TRANSACTION_IMPORTER
    from .blueprints.scores.imports import INSPECTION_IMPORTER

    app.cli.add_command(init_db)
    app.cli.add_command(seed_demo)
    app.cli.add_command(backup)
    app.cli.add_command(api_token)
    app.cli.add_command(import_command("import-org", ORG_IMPORTER))
    app.cli.add_command(import_command("import-staff", STAFF_IMPORTER))
    app.cli.add_command(import_command("import-ratings", RATING_IMPORTER))
    app.cli.add_command(import_command("import-transactions", TRANSACTION_IMPORTER))
    app.cli.add_command(import_command("import-complaints", COMPLAINT_IMPORTER))
    app.cli.add_command(import_command("import-ledger", LEDGER_IMPORTER))
    app.cli.add_command(import_command("import-inspections", INSPECTION_IMPORTER))
    app.cli.add_command(ratings_monthly_check)
    app.cli.add_command(complaints_sweep)
    app.cli.add_command(ledger_fines_check)


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the schema to the newest migration (safe to run again)."""
    from .blueprints.checklist.services import current_template

    upgrade(directory=current_app.extensions["migrate"].directory)
    current_template()  # the default 20-item checklist, the first time
    db.session.commit()
    refresh_statistics(db.session.connection())
    db.session.commit()
    click.echo("database is up to date")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Skip quietly when the database has data.")
def seed_demo(if_empty: bool) -> None:
    """Load the demo organisation, people and history into an empty database."""
    from .demo import database_is_empty, seed_demo as load

    if not database_is_empty():
        if if_empty:
            click.echo("database has data; demo not loaded")
            return
        click.echo("refused: the database is not empty", err=True)
        sys.exit(1)
    load()
    click.echo("demo data loaded (password of every demo account: demo-pass-2026)")


def import_command(name: str, importer: Importer) -> click.Command:
    """Build the ``import-…`` command for ``importer``."""

    @click.command(name, help=f"Import a CSV file: {','.join(importer.columns)}.")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def command(file: Path) -> None:
        try:
            count = run_import(importer, file)
        except ImportRefused as refused:
            db.session.rollback()
            for line, reason in refused.problems:
                click.echo(f"line {line}: {reason}" if line else reason, err=True)
            click.echo("nothing was imported", err=True)
            sys.exit(1)
        except DomainError as error:
            db.session.rollback()
            click.echo(f"{error.message}; nothing was imported", err=True)
            sys.exit(1)
        click.echo(f"imported {count} row(s) from {file_name(file)}")

    return command


@click.group("api-token")
def api_token() -> None:
    """Manage read-only API tokens."""


@api_token.command("create")
@click.option("--name", required=True, help="Who will use the token, e.g. HR system.")
def api_token_create(name: str) -> None:
    """Print a new read-only API token (it is shown only once)."""
    from .blueprints.api.services import create_token

    try:
        _, plain = create_token(name)
    except DomainError as error:
        click.echo(str(error.message), err=True)
        sys.exit(1)
    click.echo(plain)


@click.command("backup")
@click.argument("destination", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup(destination: Path | None) -> None:
    """Copy the SQLite database while it is in use (online backup), then check the copy."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        click.echo("backup is for SQLite; use pg_dump for PostgreSQL", err=True)
        sys.exit(1)
    source_path = engine.url.database
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    target = destination or Path(current_app.instance_path) / "backups" / f"portal-{stamp}.db"
    if target.resolve() == Path(source_path).resolve():
        click.echo("refused: the backup would overwrite the database itself", err=True)
        sys.exit(1)
    target.parent.mkdir(parents=True, exist_ok=True)
    # closing(): a sqlite3 connection used as a context manager commits but stays open.
    with closing(sqlite3.connect(source_path)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        click.echo(f"integrity check of {target} failed: {result}", err=True)
        sys.exit(1)
    click.echo(f"backup written to {target} (integrity ok)")


@click.command("ratings-monthly-check")
@click.option("--month", help="YYYY-MM; default: the month before this one")
def ratings_monthly_check(month: str | None) -> None:
    """Propose R15 deductions for every outlet's tellers from a month's figures (run monthly)."""
    from sqlalchemy import select

    from .blueprints.ratings.services import monthly_check
    from .models import OrgUnit
    from .periods import BadPeriod, parse, previous_month
    from .timeutil import local_today

    try:
        period = parse(month) if month else previous_month(local_today())
        if "Q" in period.label:
            raise BadPeriod(month)
    except BadPeriod:
        click.echo(f"month must look like 2026-10, not {month!r}", err=True)
        sys.exit(1)
    outlets = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "outlet")).all()
    created = monthly_check(list(outlets), period, utcnow())
    click.echo(f"{period.label}: {created} R15 proposal(s) created")


@click.command("complaints-sweep")
def complaints_sweep() -> None:
    """Apply the complaint clocks that ran out (run every few minutes, e.g. from cron).

    A transfer not accepted in time returns to the sender; a late response is escalated to
    the outlet manager and a late decision to the service office, each proposing R11b once.
    """
    from .blueprints.complaints.services import sweep

    try:
        settled = sweep(utcnow())
    except DomainError as error:
        db.session.rollback()
        click.echo(f"{error.message}; run the sweep again", err=True)
        sys.exit(1)
    click.echo(f"{settled} complaint(s) settled")


@click.command("ledger-fines-check")
def ledger_fines_check() -> None:
    """Propose R22 for every fine still unpaid two days after it fell due (run daily, e.g. from
    cron); each fine proposes it once."""
    from .blueprints.ledger.services import fines_check
    from .timeutil import local_today

    try:
        proposed = fines_check(local_today(), utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        click.echo(f"{error.message}; nothing was proposed", err=True)
        sys.exit(1)
    click.echo(f"{proposed} R22 proposal(s) created")
