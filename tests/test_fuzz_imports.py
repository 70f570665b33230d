"""Fuzzing every ``import-*`` command (issue 7): whatever the file holds (random bytes, invalid
UTF-8, a BOM, CRLF, missing or extra columns, huge fields, formulas, NUL bytes, quoted line
breaks) the command ends with status 0 or 1, never with a traceback, and a refused file leaves
the row count of every table as it was.
"""
import csv
import io
import itertools
import os
from datetime import timedelta

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.blueprints.admin.imports import ORG_COLUMNS, STAFF_COLUMNS
from portal.blueprints.complaints.imports import COMPLAINT_COLUMNS
from portal.blueprints.complaints.models import CATEGORIES, CHANNELS, FINDINGS, LEVELS
from portal.blueprints.ledger.imports import LEDGER_COLUMNS
from portal.blueprints.ratings.imports import RATING_COLUMNS, TRANSACTION_COLUMNS
from portal.blueprints.scores.imports import INSPECTION_COLUMNS
from portal.extensions import db
from portal.models import ImportedFile
from portal.periods import quarter_of
from portal.timeutil import local_today

from .fuzz_helpers import FUZZ, changed, nasty, table_counts

TODAY = local_today()
DAY = str(TODAY - timedelta(days=3))
EARLIER = str(TODAY - timedelta(days=40))
QUARTER = quarter_of(TODAY).label
LAST_QUARTER = quarter_of(TODAY - timedelta(days=92)).label

#: per command: its columns and good values of each (rows of these mostly import)
GOOD = {
    "import-org": (ORG_COLUMNS, {
        "code": ("ZJK-009", "zjk-010", "ZJK-001"), "name": ("桥西网点", "新网点"),
        "kind": ("outlet", "subbranch"), "parent_code": ("ZJK-YYB", "ZJK"),
        "windows": ("3", "0", "")}),
    "import-staff": (STAFF_COLUMNS, {
        "work_no": ("T9001", "t9002", "T1001"), "name": ("张三", "李四"),
        "role": ("teller", "lobby_manager"), "outlet_code": ("ZJK-001", "zjk-002"),
        "joined_on": ("2024-01-02", "2019-12-31"), "password": ("Passw0rd-2026", "")}),
    "import-transactions": (TRANSACTION_COLUMNS, {
        "date": (DAY, EARLIER), "work_no": ("T1001", "t2001"),
        "transactions": ("12", "0", "5000")}),
    "import-ratings": (RATING_COLUMNS, {
        "rated_at": (f"{DAY} 10:00:00", f"{EARLIER} 16:59:59"), "work_no": ("T1001", "T2002"),
        "stars": ("5", "1", "3"), "channel": ("device", "qr")}),
    "import-complaints": (COMPLAINT_COLUMNS, {
        "received_at": (f"{DAY} 10:00:00", f"{EARLIER} 09:30:00"),
        "outlet_code": ("ZJK-001", "zjk-002"), "channel": CHANNELS, "category": CATEGORIES,
        "responsible_work_no": ("", "T1001", "T2001"), "finding": FINDINGS, "level": LEVELS}),
    "import-ledger": (LEDGER_COLUMNS, {
        "date": (DAY, EARLIER), "work_no": ("T1001", "T1002", "T2001"),
        "rule_code": ("R04", "r05", "A01", "R01a"), "points": ("", "-1"), "money": ("", "100"),
        "management_responsibility": ("0", "1"), "note": ("", "迟到", "使用服务禁语")}),
    "import-inspections": (INSPECTION_COLUMNS, {
        "outlet_code": ("ZJK-001", "zjk-002"), "quarter": (QUARTER, LAST_QUARTER.lower()),
        "mystery": ("90", "85.5", ""), "offsite": ("100", "0"), "onsite": ("77.7", "")}),
}

#: what a spreadsheet or a hostile hand puts into a cell
CELLS = st.one_of(
    nasty,
    st.sampled_from((
        "=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\",\"y\")", "+SUM(1,2)", "-1+1", "@A1",
        "a\nb", "a\r\nb", '"', '""', "a,b", " T1001 ", "T1001\x00", "\x00", "x" * 140_000,
        "Ｔ１００１", "２０２６-０１-０５", "٥", "1e3", "05", "-0", "+5", "5.0", "NaN", "∞",
        "2026-02-30", "2026-13-01", "1999-12-31", "2999-01-01", "2026-01-05T10:00:00",
        f"{DAY} 24:00:00", f"{DAY}  10:00:00", "9999-12-31 23:59:59", "2026Q5", "2026Q0",
        "1999Q4", "100.05", "100.1", "-0.0", "0x10", "١٠", "R04\u200b", "outlet\ufeff",
    )),
)


@st.composite
def csv_files(draw, command: str) -> bytes:
    """A file for ``command``: mostly its header and good rows with a few bad cells, sometimes
    a broken header, broken rows or bytes of any kind."""
    columns, good = GOOD[command]
    shape = draw(st.sampled_from(("rows", "rows", "rows", "header", "bytes")), label="shape")
    if shape == "bytes":
        return draw(st.binary(max_size=300))
    header = list(columns)
    if shape == "header":  # a column missing, one more, a different order or name, other case
        change = draw(st.sampled_from(("drop", "add", "swap", "rename", "upper", "blank")))
        if change == "drop":
            header.pop(draw(st.integers(0, len(header) - 1)))
        elif change == "add":
            header.append(draw(st.sampled_from(("extra", "", "note", header[0]))))
        elif change == "swap":
            header[0], header[-1] = header[-1], header[0]
        elif change == "rename":
            header[draw(st.integers(0, len(header) - 1))] = draw(CELLS)
        elif change == "upper":
            header = [name.upper() for name in header]
        else:
            header = []
    rows = []
    for _ in range(draw(st.integers(0, 4), label="rows")):
        row = [draw(st.sampled_from(good[name])) for name in columns]
        bad = draw(st.sampled_from((0, 0, 1, 1, 2)), label="bad cells")
        for index in draw(st.lists(st.integers(0, len(row) - 1), min_size=bad, max_size=bad,
                                   unique=True)):
            row[index] = draw(CELLS)
        cut = draw(st.sampled_from(("", "", "", "", "short", "long")))
        if cut == "short":
            row.pop()
        elif cut == "long":
            row.append(draw(CELLS))
        rows.append(row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(("\n", "\r\n", "\r")),
                                                 label="line end"))
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    if draw(st.booleans(), label="naive join"):  # as a careless script writes CSV: no quoting
        text = "\n".join(",".join(line) for line in ([header] if header else []) + rows)
    raw = text.encode("utf-8")
    if draw(st.booleans(), label="BOM"):
        raw = b"\xef\xbb\xbf" + raw
    damage = draw(st.sampled_from(("", "", "", "latin-1", "invalid", "nul", "gbk")), label="damage")
    if damage == "latin-1":
        raw = text.encode("utf-8", "replace").decode("utf-8").encode("latin-1", "replace")
    elif damage == "invalid":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe4\xb8")))\
            + raw[at:]
    elif damage == "nul":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + b"\x00" + raw[at:]
    elif damage == "gbk":
        raw = text.encode("gbk", "replace")
    return raw


_numbers = itertools.count()
#: file names as they come: not UTF-8 (b"\xff"), emoji, right-to-left, a formula, spaces
NAMES = (b"data.csv", b"\xff\xfe.csv", "😀 \u202e名单.csv".encode(), b"=cmd|calc.csv", b"a b .csv")


def run_fuzzed(runner, tmp_path, command: str, raw: bytes, name: bytes = b"data.csv"):
    """Run ``command`` on a file holding ``raw``; check the outcome and what was stored."""
    path = os.path.join(os.fsencode(tmp_path), b"%d-" % next(_numbers) + name)
    with open(path, "wb") as file:
        file.write(raw)
    before = table_counts()
    result = runner.invoke(args=[command, os.fsdecode(path)])
    after = table_counts()
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{result.exception!r}\n{result.output}"
    assert result.exit_code in (0, 1) and "Traceback" not in result.output, result.output
    if result.exit_code == 1:
        assert "nothing was imported" in result.output or "already imported" in result.output
        assert changed(before, after) == {}, result.output
    else:
        assert after["imported_file"] == before["imported_file"] + 1
    return result


@pytest.mark.parametrize("command", sorted(GOOD))
@settings(FUZZ, max_examples=50)
@given(data=st.data())
def test_an_import_stores_all_of_a_file_or_nothing_and_never_crashes(runner, tmp_path, command,
                                                                     data):
    result = run_fuzzed(runner, tmp_path, command, data.draw(csv_files(command), label="file"),
                        data.draw(st.sampled_from(NAMES), label="name"))
    event(f"exit {result.exit_code}")


DAMAGES = {"NUL": b"\x00", "invalid UTF-8": b"\xff\xfe", "quoted line break": b"\"a\nb\"",
           "huge field": b"x" * 140_000}


def test_each_import_takes_a_good_file_and_refuses_it_whole_for_one_bad_cell(runner, tmp_path):
    """The generator's good rows really import (so the fuzz gets past the checks), with a BOM
    and CRLF; the same rows with one bad cell in the last line store nothing."""
    for command, (columns, good) in GOOD.items():
        header = ",".join(columns).encode()
        first = ",".join(good[name][0] for name in columns).encode()
        result = run_fuzzed(runner, tmp_path, command,
                            b"\xef\xbb\xbf" + header + b"\r\n" + first + b"\r\n")
        assert result.exit_code == 0, (command, result.output)
        second = ",".join(good[name][-1] for name in columns[:-1]).encode()
        for label, damage in DAMAGES.items():
            raw = header + b"\n" + first + b"\n" + second + b"," + damage + b"\n"
            result = run_fuzzed(runner, tmp_path, command, raw)
            assert result.exit_code == 1 and "line " in result.output, (command, label,
                                                                         result.output)


# --- regressions found by the fuzz ----------------------------------------------------------

def test_a_file_whose_name_is_not_utf8_imports_under_a_readable_name(runner, tmp_path):
    """A file named b"\\xff\\xfe.csv" was checked and applied, then storing its name raised
    UnicodeEncodeError: a traceback instead of "imported 1 row(s)"."""
    columns, good = GOOD["import-inspections"]
    raw = (",".join(columns) + "\n" + ",".join(good[name][0] for name in columns) + "\n").encode()
    result = run_fuzzed(runner, tmp_path, "import-inspections", raw, b"\xff\xfe.csv")
    assert result.exit_code == 0 and "\ufffd\ufffd.csv" in result.output
    stored = db.session.scalar(select(ImportedFile).order_by(ImportedFile.id.desc()).limit(1))
    assert stored.filename.endswith("\ufffd\ufffd.csv")
    again = run_fuzzed(runner, tmp_path, "import-inspections", raw, b"\xff\xfe.csv")
    assert again.exit_code == 1 and "already imported" in again.output


def test_ledger_points_and_money_in_other_digits_are_refused(runner, tmp_path):
    """POINTS and MONEY matched with \\d, which takes full-width and Arabic-Indic digits; Decimal
    then read "-１" as -1 and the row was stored."""
    for points, money in (("-１", ""), ("-١", ""), ("", "１００"), ("", "١٠٠")):
        raw = (",".join(LEDGER_COLUMNS) + f"\n{DAY},T1001,R04,{points},{money},0,\n").encode()
        result = run_fuzzed(runner, tmp_path, "import-ledger", raw)
        assert result.exit_code == 1 and "line 2: " in result.output, result.output
