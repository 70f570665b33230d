"""CSV imports: read the whole file, check every row, then write all of it or nothing.

A feature describes an import with an ``Importer``: its columns, a ``check`` that turns each
row into a plan or a reason, and an ``apply`` that writes the plans in one transaction.
"""
import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select

from .audit import record
from .database import refresh_statistics
from .extensions import db
from .models import ImportedFile
from .timeutil import to_local


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_BYTES_BUT_LINE_ENDS = re.compile(rb"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")


class RowProblem(Exception):
    """A row can't be imported; the message says why."""


class ImportRefused(Exception):
    """The file as a whole was refused; ``problems`` lists (line, reason) pairs."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Importer:
    kind: str
    columns: tuple[str, ...]
    check: Callable[[dict, dict], Any]  # (row, context) -> plan; raises RowProblem
    apply: Callable[[list], None]  # plans, in file order -> writes (no commit)
    prepare: Callable[[list[dict]], dict] = lambda rows: {}  # whole-file facts for check


PADDED_FIELD = re.compile(r"(?:^|,)[^\S\r\n]|[^\S\r\n](?:,|\r?$)", re.M)


EARLIEST_YEAR = 2000  # older dates are typing mistakes (and beyond the time-zone arithmetic)


def local_date_or_time(text: str, latest, label: str, column: str, with_time: bool):
    """A row's local ``YYYY-MM-DD HH:MM:SS`` (or ``YYYY-MM-DD``), strictly in that shape, not
    after ``latest`` and not before 2000; otherwise the row's problem, in Chinese and English."""
    length, shape = (19, "YYYY-MM-DD HH:MM:SS") if with_time else (10, "YYYY-MM-DD")
    try:
        if len(text) != length or (with_time and text[10] != " "):
            raise ValueError
        value = datetime.fromisoformat(text) if with_time else date.fromisoformat(text)
    except ValueError:
        raise RowProblem(f"{label} {text!r} 应为 {shape} (bad {column})") from None
    if value > latest:
        raise RowProblem(f"{label} {text} 在未来 ({column} in the future)")
    if value.year < EARLIEST_YEAR:
        raise RowProblem(f"{label} {text} 早于 {EARLIEST_YEAR} 年 ({column} too early)")
    return value


def read_rows(raw: bytes, columns: tuple[str, ...]) -> list[tuple[int, dict]]:
    """Parse UTF-8 CSV text (BOM optional) with a header naming exactly ``columns``."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused([(1, f"文件不是 UTF-8 编码 (not UTF-8): {error.reason}")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = tuple(name.strip() for name in next(reader, ()))
    if header != columns:
        expected = ",".join(columns)
        raise ImportRefused([(1, f"表头应为 {expected} (header must be {expected})")])
    rows = []
    # unless a field starts or ends with a space (or quotes may hide one), nothing needs trimming
    padded = '"' in text or PADDED_FIELD.search(text) is not None
    try:
        for values in reader:
            stripped = [value.strip() for value in values] if padded else values
            if not any(stripped):
                continue  # blank line
            if len(stripped) != len(columns):
                rows.append((reader.line_num, None))
                continue
            rows.append((reader.line_num, dict(zip(columns, stripped))))
    except csv.Error as error:  # e.g. a field over csv.field_size_limit()
        raise ImportRefused([(reader.line_num, f"无法读取此行 (unreadable CSV: {error})")]) from None
    return rows


def file_name(path: Path) -> str:
    """The file's name as text that can be stored and printed: a byte of a name that is not
    UTF-8 (it arrives as a lone surrogate) becomes U+FFFD, which failed the import before."""
    return path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def run_import(importer: Importer, path: Path) -> int:
    """Import ``path`` with ``importer``; return the number of rows, or raise ImportRefused."""
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    earlier = db.session.scalar(select(ImportedFile).where(ImportedFile.sha256 == digest))
    if earlier is not None:
        when = to_local(earlier.imported_at).strftime("%Y-%m-%d %H:%M")
        raise ImportRefused([(0, f"此文件已于 {when} 导入过 (already imported at {when}, "
                                 f"as {earlier.filename})")])
    rows = read_rows(raw, importer.columns)
    # One scan of the whole file; values are looked at one by one only when it finds a control
    # character other than a line end, or a quote (the only way a field can hold a line end).
    suspect = b'"' in raw or CONTROL_BYTES_BUT_LINE_ENDS.search(raw) is not None
    plans, problems = [], []
    context = importer.prepare([row for _, row in rows if row is not None])
    for line, row in rows:
        if row is None:
            problems.append((line, f"列数应为 {len(importer.columns)} (wrong number of columns)"))
            continue
        if suspect and any(CONTROL_CHARACTERS.search(value) for value in row.values()):
            problems.append((line, "含有控制字符或换行 (control characters are not allowed)"))
            continue
        try:
            plans.append(importer.check(row, context))
        except RowProblem as problem:
            problems.append((line, str(problem)))
    if problems:
        raise ImportRefused(problems)
    importer.apply(plans)
    name = file_name(path)
    db.session.add(ImportedFile(kind=importer.kind, sha256=digest, filename=name,
                                rows=len(plans)))
    record(f"import.{importer.kind}", None, file=name, rows=len(plans), sha256=digest)
    db.session.commit()
    refresh_statistics(db.session.connection())
    db.session.commit()
    return len(plans)
