"""``import-org`` and ``import-staff``: check the whole file, then import all of it or nothing."""
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, ImportedFile, OrgUnit, Person, unit_by_code
from portal.timeutil import to_local

from .conftest import person

ORG_HEADER = "code,name,kind,parent_code,windows"
STAFF_HEADER = "work_no,name,role,outlet_code,joined_on,password"
NEW_PASSWORD = "start-pass-2026"
# A good row of each kind, put before a bad one to show that it is not imported either.
GOOD_ORG_ROW = "ZJK-003,新华街网点,outlet,ZJK-YYB,3"
GOOD_STAFF_ROW = f"T3001,新柜员,teller,ZJK-002,2026-01-05,{NEW_PASSWORD}"


def write(tmp_path, lines, name="data.csv", *, bom=False, encoding="utf-8"):
    """Write ``lines`` as a CSV file and return its path."""
    path = tmp_path / name
    text = "\n".join(lines) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode(encoding) + text.encode(encoding))
    return path


def run(runner, command, path):
    return runner.invoke(args=[command, str(path)])


def counts():
    """How many rows the tables an import may touch hold."""
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (OrgUnit, Person, ImportedFile, AuditEvent)
    }


def assert_refused(result, *fragments):
    """The command failed cleanly (status 1, no traceback) and said ``fragments`` on stderr."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "nothing was imported" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


# --- organisation: the happy path --------------------------------------------------------

def test_new_units_join_the_tree_under_their_parent(runner, tmp_path):
    path = write(tmp_path, [
        ORG_HEADER,
        "ZJK-005,怡安街网点,outlet,ZJK-QD,3",  # the parent comes later in the file
        "ZJK-QD,桥东支行,subbranch,ZJK,",
        "ZJK-004,站前网点,outlet,ZJK-YYB,0",
    ])
    result = run(runner, "import-org", path)
    assert result.exit_code == 0, result.output
    assert "imported 3 row(s) from data.csv" in result.output
    subbranch, outlet = unit_by_code("ZJK-QD"), unit_by_code("ZJK-005")
    assert (subbranch.kind, subbranch.name, subbranch.windows) == ("subbranch", "桥东支行", 0)
    assert subbranch.parent.code == "ZJK" and subbranch.path == "/HQ/ZJK/ZJK-QD/"
    assert (outlet.kind, outlet.name, outlet.windows) == ("outlet", "怡安街网点", 3)
    assert outlet.parent_id == subbranch.id and outlet.path == "/HQ/ZJK/ZJK-QD/ZJK-005/"
    assert unit_by_code("ZJK").contains(outlet)
    assert unit_by_code("ZJK-004").path == "/HQ/ZJK/ZJK-YYB/ZJK-004/"


def test_codes_are_stored_in_capitals(runner, tmp_path):
    path = write(tmp_path, [ORG_HEADER, "zjk-006,小网点,outlet,zjk-yyb,2"])
    assert run(runner, "import-org", path).exit_code == 0
    outlet = unit_by_code("ZJK-006")
    assert outlet.parent.code == "ZJK-YYB" and outlet.path == "/HQ/ZJK/ZJK-YYB/ZJK-006/"


def test_an_existing_unit_is_renamed_and_resized_in_place(runner, tmp_path):
    before = counts()["org_unit"]
    unit_id = unit_by_code("ZJK-002").id
    path = write(tmp_path, [ORG_HEADER, "ZJK-002,桥东新网点,outlet,ZJK-YYB,5"])
    assert run(runner, "import-org", path).exit_code == 0
    db.session.expire_all()
    outlet = unit_by_code("ZJK-002")
    assert (outlet.id, outlet.name, outlet.windows) == (unit_id, "桥东新网点", 5)
    assert outlet.path == "/HQ/ZJK/ZJK-YYB/ZJK-002/"
    assert counts()["org_unit"] == before
    change = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "org_unit.changed")).one()
    details = json.loads(change.details)
    assert details["before"]["name"] == "桥东网点" and details["after"]["windows"] == 5


def test_moving_an_existing_unit_carries_its_outlets_and_staff_along(runner, tmp_path):
    path = write(tmp_path, [
        ORG_HEADER,
        "ZJK-YYB,营业部,subbranch,BD,",
        "BD,保定分行,branch,HQ,",
    ])
    assert run(runner, "import-org", path).exit_code == 0
    db.session.expire_all()
    assert unit_by_code("ZJK-YYB").path == "/HQ/BD/ZJK-YYB/"
    assert unit_by_code("ZJK-001").path == "/HQ/BD/ZJK-YYB/ZJK-001/"
    assert unit_by_code("ZJK-002").path == "/HQ/BD/ZJK-YYB/ZJK-002/"
    assert unit_by_code("BD").contains(person("T2001").org_unit)
    assert not unit_by_code("ZJK").contains(unit_by_code("ZJK-001"))


def test_an_import_is_remembered_and_audited(runner, tmp_path):
    before = counts()
    path = write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW], name="org-2026.csv")
    assert run(runner, "import-org", path).exit_code == 0
    imported = db.session.scalars(select(ImportedFile)).one()
    assert (imported.kind, imported.filename, imported.rows) == ("org", "org-2026.csv", 1)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert len(actions) == before["audit_event"] + 2
    assert actions[-2:] == ["org_unit.created", "import.org"]
    details = json.loads(db.session.scalars(
        select(AuditEvent.details).order_by(AuditEvent.id.desc())).first())
    assert details["rows"] == 1 and details["sha256"] == imported.sha256


def test_a_file_with_a_byte_order_mark_is_accepted(runner, tmp_path):
    path = write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW], bom=True)
    result = run(runner, "import-org", path)
    assert result.exit_code == 0, result.output
    assert unit_by_code("ZJK-003").name == "新华街网点"


def test_windows_line_endings_are_accepted(runner, tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes(f"{ORG_HEADER}\r\n{GOOD_ORG_ROW}\r\n".encode())
    assert run(runner, "import-org", path).exit_code == 0
    assert unit_by_code("ZJK-003").windows == 3


def test_a_header_only_file_imports_zero_rows(runner, tmp_path):
    before = counts()
    result = run(runner, "import-org", write(tmp_path, [ORG_HEADER]))
    assert result.exit_code == 0, result.output
    assert "imported 0 row(s)" in result.output
    after = counts()
    assert after["org_unit"] == before["org_unit"] and after["person"] == before["person"]


def test_blank_lines_are_skipped_and_do_not_shift_line_numbers(runner, tmp_path):
    path = write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW, "", ",,,,", "ZJK-004,网点,shop,ZJK-YYB,1"])
    result = run(runner, "import-org", path)
    assert_refused(result, "line 5:", "unknown kind")
    assert "line 3" not in result.stderr and "line 4" not in result.stderr


# --- organisation: refused files ----------------------------------------------------------

@pytest.mark.parametrize("header", [
    "code,name,kind,parent_code",
    "code,name,kind,parent_code,windows,extra",
    "name,code,kind,parent_code,windows",
    "Code,Name,Kind,Parent_code,Windows",
    "机构代码,名称,类型,上级,窗口",
    STAFF_HEADER,
    GOOD_ORG_ROW,
])
def test_a_wrong_header_is_refused(runner, tmp_path, header):
    before = counts()
    result = run(runner, "import-org", write(tmp_path, [header, GOOD_ORG_ROW]))
    assert_refused(result, "line 1:", f"header must be {ORG_HEADER}")
    assert counts() == before


def test_a_completely_empty_file_is_refused_for_its_missing_header(runner, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert_refused(run(runner, "import-org", path), "header must be")


def test_a_missing_file_is_an_error(runner, tmp_path):
    result = run(runner, "import-org", tmp_path / "nowhere.csv")
    assert result.exit_code == 2 and "does not exist" in result.output


BAD_ORG_ROWS = {
    "code starting with a hyphen": ("-ZJK9,网点,outlet,ZJK-YYB,1", "机构代码须为 1–20 位"),
    "code with an underscore": ("ZJK_9,网点,outlet,ZJK-YYB,1", "机构代码须为 1–20 位"),
    "code too long": ("Z" * 21 + ",网点,outlet,ZJK-YYB,1", "机构代码须为 1–20 位"),
    "code in Chinese": ("网点九,网点,outlet,ZJK-YYB,1", "机构代码须为 1–20 位"),
    "empty code": (",网点,outlet,ZJK-YYB,1", "机构代码须为 1–20 位"),
    "empty name": ("ZJK-009,,outlet,ZJK-YYB,1", "name required"),
    "name too long": ("ZJK-009," + "名" * 81 + ",outlet,ZJK-YYB,1", "at most 80 characters"),
    "unknown kind": ("ZJK-009,网点,shop,ZJK-YYB,1", "unknown kind"),
    "kind in capitals": ("ZJK-009,网点,Outlet,ZJK-YYB,1", "unknown kind"),
    "unknown parent": ("ZJK-009,网点,outlet,NOPE,1", "上级机构 NOPE 不存在"),
    "parent of equal level": ("ZJK-009,网点,outlet,ZJK-001,1", "上级机构的层级必须高于本机构"),
    "parent of lower level": ("ZJK-ZH,支行,subbranch,ZJK-001,", "上级机构的层级必须高于本机构"),
    "branch under a branch": ("BD,保定分行,branch,ZJK,", "上级机构的层级必须高于本机构"),
    "unit as its own parent": ("ZJK-ZH,支行,subbranch,ZJK-ZH,", "上级机构的层级必须高于本机构"),
    "outlet without a parent": ("ZJK-009,网点,outlet,,1", "必须有上级机构"),
    "bank with a parent": ("HQ2,第二总行,bank,HQ,", "总行不能有上级机构"),
    "windows a word": ("ZJK-009,网点,outlet,ZJK-YYB,six", "windows must be a whole number"),
    "windows a fraction": ("ZJK-009,网点,outlet,ZJK-YYB,2.5", "windows must be a whole number"),
    "windows negative": ("ZJK-009,网点,outlet,ZJK-YYB,-1", "windows must be a whole number"),
    "windows in full-width digits": ("ZJK-009,网点,outlet,ZJK-YYB,５", "windows must be a whole number"),
    "windows over 99": ("ZJK-009,网点,outlet,ZJK-YYB,100", "窗口数须在 0–99 之间"),
    "windows on a sub-branch": ("ZJK-ZH,支行,subbranch,ZJK,2", "只有网点才有窗口"),
    "windows on the bank": ("HQ,总行,bank,,1", "只有网点才有窗口"),
    "kind of an existing unit changed": ("ZJK-001,营业部网点,subbranch,ZJK,", "kind can't change"),
    "too few columns": ("ZJK-009,网点,outlet,ZJK-YYB", "wrong number of columns"),
    "too many columns": ("ZJK-009,网点,outlet,ZJK-YYB,1,x", "wrong number of columns"),
}


@pytest.mark.parametrize("row, reason", BAD_ORG_ROWS.values(), ids=BAD_ORG_ROWS.keys())
def test_a_bad_org_row_is_reported_with_its_line_and_nothing_is_imported(runner, tmp_path, row, reason):
    before = counts()
    result = run(runner, "import-org", write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW, row]))
    assert_refused(result, "line 3: ", reason)
    assert "line 2" not in result.stderr
    assert counts() == before
    assert unit_by_code("ZJK-003") is None


def test_a_code_twice_in_the_file_is_reported_on_both_lines(runner, tmp_path):
    before = counts()
    path = write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW, "ZJK-004,网点,outlet,ZJK-YYB,1",
                            "zjk-003,又一个,outlet,ZJK-YYB,2"])
    result = run(runner, "import-org", path)
    assert_refused(result, "line 2: 机构代码 ZJK-003 在文件中重复", "line 4: 机构代码 ZJK-003 在文件中重复")
    assert "line 3" not in result.stderr
    assert counts() == before


def test_every_bad_row_is_reported_not_just_the_first(runner, tmp_path):
    path = write(tmp_path, [
        ORG_HEADER,
        "ZJK-004,网点,shop,ZJK-YYB,1",
        GOOD_ORG_ROW,
        "ZJK-005,网点,outlet,NOPE,1",
        "ZJK-006,网点,outlet,ZJK-YYB,x",
    ])
    result = run(runner, "import-org", path)
    assert_refused(result, "line 2: ", "line 4: ", "line 5: ")
    reported = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in reported] == ["line 2", "line 4", "line 5"]


def test_only_a_bad_last_row_still_imports_nothing(runner, tmp_path):
    before = counts()
    path = write(tmp_path, [
        ORG_HEADER,
        "ZJK-QD,桥东支行,subbranch,ZJK,",
        "ZJK-004,站前网点,outlet,ZJK-QD,2",
        "ZJK-002,桥东新名字,outlet,ZJK-YYB,9",
        "ZJK-005,末行网点,outlet,ZJK-YYB,abc",
    ])
    result = run(runner, "import-org", path)
    assert_refused(result, "line 5: ")
    db.session.expire_all()
    assert counts() == before
    assert unit_by_code("ZJK-QD") is None and unit_by_code("ZJK-004") is None
    assert (unit_by_code("ZJK-002").name, unit_by_code("ZJK-002").windows) == ("桥东网点", 4)


def test_a_parent_whose_own_row_has_an_unknown_kind_is_refused_cleanly(runner, tmp_path):
    path = write(tmp_path, [ORG_HEADER, "ZJK-QD,桥东支行,shop,ZJK,", "ZJK-004,网点,outlet,ZJK-QD,2"])
    before = counts()
    result = run(runner, "import-org", path)
    assert_refused(result, "line 2: ", "unknown kind", "line 3: 上级机构 ZJK-QD 所在行有误")
    assert counts() == before


def test_a_file_identical_to_an_earlier_import_is_refused_naming_when(runner, tmp_path):
    first = write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW], name="first.csv")
    assert run(runner, "import-org", first).exit_code == 0
    earlier = db.session.scalars(select(ImportedFile)).one()
    when = to_local(earlier.imported_at).strftime("%Y-%m-%d %H:%M")
    before = counts()
    again = write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW], name="renamed.csv")
    result = run(runner, "import-org", again)
    assert_refused(result, f"already imported at {when}", "first.csv", f"此文件已于 {when} 导入过")
    assert "line " not in result.stderr
    assert counts() == before


def test_a_refused_file_is_not_remembered_and_is_checked_again(runner, tmp_path):
    path = write(tmp_path, [ORG_HEADER, "ZJK-004,网点,shop,ZJK-YYB,1"])
    assert_refused(run(runner, "import-org", path), "line 2: ")
    second = run(runner, "import-org", path)
    assert_refused(second, "line 2: ", "unknown kind")
    assert "already imported" not in second.stderr


def test_a_changed_file_is_imported_again(runner, tmp_path):
    assert run(runner, "import-org", write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW])).exit_code == 0
    changed = write(tmp_path, [ORG_HEADER, "ZJK-003,新华街网点,outlet,ZJK-YYB,4"])
    assert run(runner, "import-org", changed).exit_code == 0
    db.session.expire_all()
    assert unit_by_code("ZJK-003").windows == 4


def test_a_file_that_is_not_utf8_is_refused_cleanly(runner, tmp_path):
    before = counts()
    path = write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW], encoding="gbk")
    result = run(runner, "import-org", path)
    assert_refused(result, "not UTF-8")
    assert counts() == before


def test_binary_garbage_is_refused_cleanly(runner, tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    assert_refused(run(runner, "import-org", path), "not UTF-8")


def test_a_control_character_in_a_value_is_refused_cleanly(runner, tmp_path):
    before = counts()
    path = write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW, "ZJK-004,站\x00前网点,outlet,ZJK-YYB,1"])
    result = run(runner, "import-org", path)
    assert_refused(result, "line 3: ", "control character")
    assert counts() == before


def test_a_field_too_large_for_csv_is_refused_cleanly(runner, tmp_path):
    before = counts()
    path = write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW, "ZJK-004," + "名" * 200_000 + ",outlet,ZJK-YYB,1"])
    result = run(runner, "import-org", path)
    assert_refused(result, "line 3: ")
    assert counts() == before


# --- staff: the happy path ---------------------------------------------------------------

def test_new_staff_are_created_with_a_hashed_password_and_can_sign_in(runner, tmp_path, client):
    path = write(tmp_path, [STAFF_HEADER, GOOD_STAFF_ROW,
                            f"l3001,新大堂,lobby_manager,zjk-002,2025-12-01,{NEW_PASSWORD}x"])
    result = run(runner, "import-staff", path)
    assert result.exit_code == 0, result.output
    assert "imported 2 row(s)" in result.output
    teller = person("T3001")
    assert (teller.name, teller.role, teller.org_unit.code) == ("新柜员", "teller", "ZJK-002")
    assert teller.joined_on == date(2026, 1, 5) and teller.active
    assert teller.password_hash.startswith("scrypt:") and NEW_PASSWORD not in teller.password_hash
    lobby = person("L3001")
    assert (lobby.role, lobby.org_unit.code) == ("lobby_manager", "ZJK-002")
    response = client.post("/login", data={"work_no": "T3001", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "新柜员" in client.get("/").get_data(as_text=True)


def test_imported_people_are_audited(runner, tmp_path):
    assert run(runner, "import-staff", write(tmp_path, [STAFF_HEADER, GOOD_STAFF_ROW])).exit_code == 0
    created = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "person.created")
        .order_by(AuditEvent.id.desc())).first()
    assert json.loads(created.details)["work_no"] == "T3001"
    assert NEW_PASSWORD not in created.details
    assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first() \
        == "import.staff"


def test_service_office_and_admin_may_sit_at_any_unit(runner, tmp_path):
    path = write(tmp_path, [STAFF_HEADER,
                            f"S0002,文优办二,service_office,ZJK-YYB,2020-01-01,{NEW_PASSWORD}",
                            f"A0002,管理员二,admin,HQ,2020-01-01,{NEW_PASSWORD}",
                            f"S0003,文优办三,service_office,ZJK-001,2020-01-01,{NEW_PASSWORD}"])
    assert run(runner, "import-staff", path).exit_code == 0
    assert person("S0002").org_unit.code == "ZJK-YYB"
    assert person("A0002").role == "admin" and person("A0002").org_unit.code == "HQ"
    assert person("S0003").org_unit.code == "ZJK-001"


def test_an_existing_person_is_updated_and_keeps_the_password_when_it_is_blank(runner, tmp_path, client):
    before = counts()["person"]
    old = person("T1001")
    old_id, old_token = old.id, old.session_token
    path = write(tmp_path, [STAFF_HEADER, "t1001,王芳芳,lobby_manager,ZJK-002,2016-02-01,"])
    assert run(runner, "import-staff", path).exit_code == 0
    db.session.expire_all()
    moved = person("T1001")
    assert moved.id == old_id and counts()["person"] == before
    assert (moved.name, moved.role, moved.org_unit.code) == ("王芳芳", "lobby_manager", "ZJK-002")
    assert moved.joined_on == date(2016, 2, 1)
    assert moved.session_token != old_token  # new role and outlet: sign in again
    assert moved.check_password("demo-pass-2026")
    response = client.post("/login", data={"work_no": "T1001", "password": "demo-pass-2026"})
    assert response.status_code == 302


def test_an_existing_person_gets_the_new_password_when_one_is_given(runner, tmp_path):
    path = write(tmp_path, [STAFF_HEADER, f"T1002,李娜,teller,ZJK-001,2018-03-01,{NEW_PASSWORD}"])
    assert run(runner, "import-staff", path).exit_code == 0
    db.session.expire_all()
    assert person("T1002").check_password(NEW_PASSWORD)
    assert not person("T1002").check_password("demo-pass-2026")


def test_a_staff_file_with_a_byte_order_mark_is_accepted(runner, tmp_path):
    result = run(runner, "import-staff", write(tmp_path, [STAFF_HEADER, GOOD_STAFF_ROW], bom=True))
    assert result.exit_code == 0, result.output
    assert person("T3001").name == "新柜员"


def test_a_header_only_staff_file_imports_zero_rows(runner, tmp_path):
    before = counts()["person"]
    result = run(runner, "import-staff", write(tmp_path, [STAFF_HEADER]))
    assert result.exit_code == 0 and "imported 0 row(s)" in result.output
    assert counts()["person"] == before


def test_an_org_file_given_to_import_staff_is_refused_for_its_header(runner, tmp_path):
    before = counts()
    result = run(runner, "import-staff", write(tmp_path, [ORG_HEADER, GOOD_ORG_ROW]))
    assert_refused(result, "line 1: ", f"header must be {STAFF_HEADER}")
    assert counts() == before


# --- staff: refused rows -----------------------------------------------------------------

BAD_STAFF_ROWS = {
    "work number with a hyphen": (f"T-3001,新人,teller,ZJK-001,2026-01-05,{NEW_PASSWORD}", "工号须为 2–20 位"),
    "work number too short": (f"T,新人,teller,ZJK-001,2026-01-05,{NEW_PASSWORD}", "工号须为 2–20 位"),
    "work number too long": ("T" * 21 + f",新人,teller,ZJK-001,2026-01-05,{NEW_PASSWORD}", "工号须为 2–20 位"),
    "work number in Chinese": (f"柜员一,新人,teller,ZJK-001,2026-01-05,{NEW_PASSWORD}", "工号须为 2–20 位"),
    "empty name": (f"T3002,,teller,ZJK-001,2026-01-05,{NEW_PASSWORD}", "name required"),
    "name too long": ("T3002," + "名" * 51 + f",teller,ZJK-001,2026-01-05,{NEW_PASSWORD}",
                      "at most 50 characters"),
    "unknown role": (f"T3002,新人,cashier,ZJK-001,2026-01-05,{NEW_PASSWORD}", "岗位无效"),
    "empty role": (f"T3002,新人,,ZJK-001,2026-01-05,{NEW_PASSWORD}", "岗位无效"),
    "unknown outlet": (f"T3002,新人,teller,ZJK-999,2026-01-05,{NEW_PASSWORD}", "unknown outlet_code"),
    "empty outlet": (f"T3002,新人,teller,,2026-01-05,{NEW_PASSWORD}", "unknown outlet_code"),
    "teller at a sub-branch": (f"T3002,新人,teller,ZJK-YYB,2026-01-05,{NEW_PASSWORD}", "必须属于某个网点"),
    "lobby manager at a branch": (f"L3002,新人,lobby_manager,ZJK,2026-01-05,{NEW_PASSWORD}",
                                  "必须属于某个网点"),
    "outlet manager at the bank": (f"M3002,新人,outlet_manager,HQ,2026-01-05,{NEW_PASSWORD}",
                                   "必须属于某个网点"),
    "existing teller moved to a branch": ("T1001,王芳,teller,ZJK,2016-02-01,", "必须属于某个网点"),
    "impossible date": (f"T3002,新人,teller,ZJK-001,2026-13-01,{NEW_PASSWORD}", "bad joined_on"),
    "slashed date": (f"T3002,新人,teller,ZJK-001,2026/01/05,{NEW_PASSWORD}", "bad joined_on"),
    "date without hyphens": (f"T3002,新人,teller,ZJK-001,20260105,{NEW_PASSWORD}", "bad joined_on"),
    "week date": (f"T3002,新人,teller,ZJK-001,2026-W02-1,{NEW_PASSWORD}", "bad joined_on"),
    "date and time": (f"T3002,新人,teller,ZJK-001,2026-01-05 08:00,{NEW_PASSWORD}", "bad joined_on"),
    "empty date": (f"T3002,新人,teller,ZJK-001,,{NEW_PASSWORD}", "bad joined_on"),
    "seven-character password for a new person": ("T3002,新人,teller,ZJK-001,2026-01-05,1234567",
                                                   "密码长度须为 8–64"),
    "no password for a new person": ("T3002,新人,teller,ZJK-001,2026-01-05,", "密码长度须为 8–64"),
    "65-character password": ("T3002,新人,teller,ZJK-001,2026-01-05," + "p" * 65, "密码长度须为 8–64"),
    "short new password for an existing person": ("T1001,王芳,teller,ZJK-001,2016-02-01,short",
                                                  "密码长度须为 8–64"),
    "too few columns": ("T3002,新人,teller,ZJK-001,2026-01-05", "wrong number of columns"),
    "too many columns": (f"T3002,新人,teller,ZJK-001,2026-01-05,{NEW_PASSWORD},x",
                         "wrong number of columns"),
}


@pytest.mark.parametrize("row, reason", BAD_STAFF_ROWS.values(), ids=BAD_STAFF_ROWS.keys())
def test_a_bad_staff_row_is_reported_with_its_line_and_nothing_is_imported(runner, tmp_path, row, reason):
    before = counts()
    result = run(runner, "import-staff", write(tmp_path, [STAFF_HEADER, GOOD_STAFF_ROW, row]))
    assert_refused(result, "line 3: ", reason)
    assert "line 2" not in result.stderr
    assert counts() == before
    assert person("T3001") is None


def test_a_work_number_twice_in_the_file_is_reported_on_both_lines(runner, tmp_path):
    before = counts()
    path = write(tmp_path, [STAFF_HEADER, GOOD_STAFF_ROW,
                            f"t3001,另一个,teller,ZJK-001,2026-01-06,{NEW_PASSWORD}"])
    result = run(runner, "import-staff", path)
    assert_refused(result, "line 2: 工号 T3001 在文件中重复", "line 3: 工号 T3001 在文件中重复")
    assert counts() == before


def test_a_bad_last_staff_row_leaves_earlier_updates_undone(runner, tmp_path):
    before = counts()
    path = write(tmp_path, [
        STAFF_HEADER,
        GOOD_STAFF_ROW,
        f"T1001,改名字,teller,ZJK-002,2016-02-01,{NEW_PASSWORD}",
        "T3009,末行,teller,ZJK-001,2026-02-30,start-pass-2026",
    ])
    result = run(runner, "import-staff", path)
    assert_refused(result, "line 4: ", "bad joined_on")
    db.session.expire_all()
    assert counts() == before
    unchanged = person("T1001")
    assert (unchanged.name, unchanged.org_unit.code) == ("王芳", "ZJK-001")
    assert unchanged.check_password("demo-pass-2026")
    assert person("T3001") is None


def test_an_identical_staff_file_is_refused_the_second_time(runner, tmp_path):
    path = write(tmp_path, [STAFF_HEADER, GOOD_STAFF_ROW], name="staff.csv")
    assert run(runner, "import-staff", path).exit_code == 0
    before = counts()
    result = run(runner, "import-staff", path)
    assert_refused(result, "already imported at", "staff.csv")
    assert counts() == before


def test_a_staff_file_that_is_not_utf8_is_refused_cleanly(runner, tmp_path):
    before = counts()
    result = run(runner, "import-staff", write(tmp_path, [STAFF_HEADER, GOOD_STAFF_ROW], encoding="gbk"))
    assert_refused(result, "line 1: ", "not UTF-8")
    assert counts() == before
