"""What the bench modules share: paths, the signing key, database handles, sizes."""
import os
import re
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
SECRET = "bench-secret-key-0123456789abcdef0123456789"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CACHE_DIR = ROOT / "instance" / "bench"
RESULTS_DIR = ROOT / "bench" / "results"
DEMO_PASSWORD = "demo-pass-2026"
ROLES = {"teller": "T1001", "lobby": "L0001", "manager": "M0001", "office": "S0001",
         "admin": "A0001"}
BACKENDS = ("sqlite", "postgresql")
#: names of PostgreSQL databases this bench makes; nothing else is ever created or dropped
PG_PREFIX = "bench_"


def plain_pg(url: str) -> str:
    """A libpq URL (psycopg, pg_dump) from a SQLAlchemy one."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def pg_url(name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the bench's PostgreSQL server."""
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def pg_admin():
    """An autocommit connection to the server's maintenance database."""
    import psycopg

    return psycopg.connect(plain_pg(PG_ADMIN_URL), autocommit=True, connect_timeout=5)


def pg_answers() -> bool:
    try:
        with pg_admin():
            return True
    except Exception:  # any failure to connect: PostgreSQL is reported as skipped
        return False


def checked_pg_name(name: str) -> str:
    """Refuse any database name this bench does not own (``test`` above all)."""
    if not re.fullmatch(r"bench_[a-z0-9_]{1,55}", name):
        raise ValueError(f"not a bench database name: {name!r}")
    return name


@dataclass
class Db:
    """One bench database: a SQLite file or a PostgreSQL database named bench_*."""

    backend: str
    url: str
    path: Path | None = None
    name: str | None = None

    @classmethod
    def sqlite(cls, path: Path) -> "Db":
        return cls("sqlite", f"sqlite:///{path}", path=Path(path))

    @classmethod
    def postgresql(cls, name: str) -> "Db":
        return cls("postgresql", pg_url(checked_pg_name(name)), name=name)

    def connect(self):
        """A raw DBAPI connection (sqlite3 in autocommit mode, or psycopg)."""
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA busy_timeout=30000")
            return conn
        import psycopg

        return psycopg.connect(plain_pg(self.url))

    def scalar(self, sql: str, params: tuple = ()):
        conn = self.connect()
        try:
            if self.backend == "postgresql":
                sql = sql.replace("?", "%s")
            row = conn.execute(sql, params).fetchone()
            return row[0] if row else None
        finally:
            conn.close()

    def describe(self) -> str:
        return str(self.path) if self.backend == "sqlite" else f"postgresql database {self.name}"


def drop_pg(name: str) -> None:
    with pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{checked_pg_name(name)}" WITH (FORCE)')


def drop(db: Db | None) -> None:
    """Remove a bench database (a SQLite file with its -wal/-shm, or a bench_* database)."""
    if db is None:
        return
    if db.backend == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db.path}{suffix}").unlink(missing_ok=True)
    else:
        drop_pg(db.name)


SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")


def parse_size(text: str) -> int:
    """``0``, ``100k``, ``1M``, ``10M`` or a plain number of ratings."""
    found = SIZE_RE.match(text.strip())
    if not found:
        raise ValueError(f"bad size {text!r}: use e.g. 0, 100k, 1M, 10M")
    number, unit = float(found.group(1)), found.group(2).lower()
    return int(number * {"": 1, "k": 1_000, "m": 1_000_000}[unit])


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)
