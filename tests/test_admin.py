"""The admin pages: org units, people and accounts, photos, API tokens and the audit history."""
import hashlib
import re
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.blueprints.admin import services
from portal.blueprints.api.models import ApiToken
from portal.blueprints.api.services import create_token
from portal.extensions import db
from portal.models import ADMIN, TELLER, AuditEvent, OrgUnit, Person, unit_by_code
from portal.timeutil import local_today, utcnow

from .conftest import AuthActions, person, sign_in_as

PASSWORD = "demo-pass-2026"
NON_ADMIN_ROLES = ("teller", "lobby", "manager", "office")


# --- helpers ----------------------------------------------------------------------------

def unit(code: str) -> OrgUnit:
    return unit_by_code(code)


def error_next_to(page: str, field_id: str) -> str:
    """The error message shown under the field ``field_id``, or ''."""
    found = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page, re.S)
    return found.group(1) if found else ""


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def actions() -> list[str]:
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def image_bytes(fmt: str, size=(600, 450), mode="RGB", **save) -> bytes:
    buffer = BytesIO()
    Image.new(mode, size, "teal").save(buffer, fmt, **save)
    return buffer.getvalue()


def upload(client, someone: Person, content: bytes, filename: str):
    return client.post(f"/admin/people/{someone.id}/photo",
                       data={"photo": (BytesIO(content), filename)},
                       content_type="multipart/form-data")


def add_people(n: int, outlet_code: str = "ZJK-002", start: int = 0) -> None:
    """Insert ``n`` tellers directly (no password hashing, to keep tests fast)."""
    outlet = unit(outlet_code)
    db.session.add_all(
        Person(work_no=f"X{start + i:04d}", name=f"测试{start + i}", role=TELLER, org_unit=outlet,
               joined_on=date(2020, 1, 1), password_hash="unused")
        for i in range(n)
    )
    db.session.commit()


@pytest.fixture
def other_tree(app):
    """A second bank with an outlet and a teller: outside every demo admin's subtree."""
    bank = services.create_unit("OTHER", "他行", "bank", None, 0)
    outlet = services.create_unit("OTHER-01", "他行网点", "outlet", bank, 2)
    teller = services.create_person("Z0001", "外人", TELLER, outlet, date(2020, 1, 1), PASSWORD)
    return {"bank": bank, "outlet": outlet, "teller": teller}


@pytest.fixture
def branch_admin(app):
    """A client signed in as an admin placed at the ZJK branch (HQ lies outside their subtree)."""
    services.create_person("A0002", "分行管理员", ADMIN, unit("ZJK"), date(2019, 1, 1), PASSWORD)
    return sign_in_as(app.test_client(), "A0002")


UNIT_FORM = {"code": "ZJK-003", "name": "桥西网点", "kind": "outlet", "windows": "5"}


def unit_form(**changes) -> dict:
    return {**UNIT_FORM, "parent": str(unit("ZJK-YYB").id), **changes}


def person_form(**changes) -> dict:
    return {"work_no": "T1007", "name": "新柜员", "role": TELLER,
            "org_unit": str(unit("ZJK-001").id), "joined_on": "2025-03-01",
            "password": "first-pass-2026", **changes}


# --- who may use the admin pages --------------------------------------------------------

ROUTES = [
    ("get", "/admin/units"),
    ("get", "/admin/units/new"),
    ("post", "/admin/units/new"),
    ("get", "/admin/units/{unit}/edit"),
    ("post", "/admin/units/{unit}/edit"),
    ("get", "/admin/people"),
    ("get", "/admin/people/new"),
    ("post", "/admin/people/new"),
    ("get", "/admin/people/{person}"),
    ("get", "/admin/people/{person}/edit"),
    ("post", "/admin/people/{person}/edit"),
    ("post", "/admin/people/{person}/deactivate"),
    ("post", "/admin/people/{person}/activate"),
    ("get", "/admin/people/{person}/password"),
    ("post", "/admin/people/{person}/password"),
    ("post", "/admin/people/{person}/photo"),
    ("get", "/admin/tokens"),
    ("post", "/admin/tokens"),
    ("post", "/admin/tokens/{token}/revoke"),
    ("get", "/admin/audit"),
]


def route_url(template: str) -> str:
    token_id = create_token("route check")[0].id if "{token}" in template else None
    return template.format(unit=unit("ZJK-001").id, person=person("T1002").id, token=token_id)


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
@pytest.mark.parametrize("method, template", ROUTES)
def test_other_roles_are_refused_every_admin_route(app, request, role, method, template):
    client = request.getfixturevalue(role)
    url, units_before = route_url(template), count(OrgUnit)
    response = getattr(client, method)(url, data=unit_form(name="越权"))
    assert response.status_code == 403
    assert count(OrgUnit) == units_before and person("T1002").active
    assert db.session.scalars(select(ApiToken.revoked_at)).all() in ([], [None])


@pytest.mark.parametrize("method, template", ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(client, method, template):
    response = getattr(client, method)(route_url(template))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_nav_lists_the_admin_pages(admin, teller):
    page = admin.get("/admin/units").get_data(as_text=True)
    for label, href in (("机构", "/admin/units"), ("人员", "/admin/people"),
                        ("接口令牌", "/admin/tokens"), ("操作记录", "/admin/audit")):
        assert f'<a href="{href}"' in page and f">{label}</a>" in page
    assert "/admin/units" not in teller.get("/").get_data(as_text=True)


def test_admin_home_shows_recent_history_with_links(admin):
    services.set_active(person("T1003"), False)
    page = admin.get("/").get_data(as_text=True)
    assert "person.deactivated" in page and "/admin/people?status=inactive" in page


def test_admin_post_without_csrf_token_is_refused(app_factory):
    csrf_app = app_factory(WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        client = sign_in_as(csrf_app.test_client(), "A0001")
        target = person("T1002")
        response = client.post(f"/admin/people/{target.id}/deactivate")
        assert response.status_code == 400
        db.session.refresh(target)
        assert target.active


# --- org units --------------------------------------------------------------------------

def test_units_page_shows_the_tree_indented_by_depth(admin):
    page = admin.get("/admin/units").get_data(as_text=True)
    cells = r"\s*<td>(.*?)</td>" * 3
    rows = re.findall(r'<td class="tree-(\d)">(.*?)</td>' + cells, page)
    assert [(depth, code, kind) for depth, _, code, kind, _ in rows] == [
        ("0", "HQ", "总行"), ("1", "ZJK", "分行"), ("2", "ZJK-YYB", "支行"),
        ("3", "ZJK-001", "网点"), ("3", "ZJK-002", "网点"),
    ]
    assert rows[3][4] == "6" and rows[4][4] == "4"
    assert f'/admin/units/{unit("ZJK-002").id}/edit' in page and "/admin/units/new" in page
    assert '<th scope="col">' in page


def test_units_page_shows_only_the_admins_subtree(branch_admin, other_tree):
    page = branch_admin.get("/admin/units").get_data(as_text=True)
    assert '<td class="tree-0">张家口分行</td>' in page and "ZJK-002" in page
    assert ">HQ<" not in page and "OTHER" not in page


def test_admin_creates_an_outlet(admin):
    response = admin.post("/admin/units/new", data=unit_form(code="zjk-003"))
    assert response.status_code == 303 and response.headers["Location"] == "/admin/units"
    created = unit("ZJK-003")
    assert created.name == "桥西网点" and created.windows == 5
    assert created.path == "/HQ/ZJK/ZJK-YYB/ZJK-003/" and created.parent.code == "ZJK-YYB"
    assert actions()[-1] == "org_unit.created"
    assert "已新建机构" in admin.get("/admin/units").get_data(as_text=True)


@pytest.mark.parametrize("changes, field, message", [
    ({"code": ""}, "code", "请填写机构代码"),
    ({"code": "ZJK 003"}, "code", "机构代码须为 1–20 位字母"),
    ({"code": "ZJK-001"}, "code", "机构代码已存在"),
    ({"name": "   "}, "name", "请填写机构名称"),
    ({"name": "名" * 81}, "name", "最多 80 个字符"),
    ({"kind": ""}, "kind", "请选择机构类型"),
    ({"kind": "castle"}, "kind", "请从列表中选择"),
    ({"kind": "branch"}, "kind", "上级机构的层级必须高于本机构"),
    ({"kind": "subbranch", "windows": "0", "parent": "{ZJK-001}"}, "kind", "上级机构的层级必须高于本机构"),
    ({"parent": ""}, "parent", "请选择上级机构"),
    ({"parent": "abc"}, "parent", "请从列表中选择"),
    ({"parent": "99999"}, "parent", "请从列表中选择"),
    ({"parent": "{OTHER}"}, "parent", "请从列表中选择"),
    ({"windows": "100"}, "windows", "窗口数须在 0–99 之间"),
    ({"windows": "-1"}, "windows", "窗口数须在 0–99 之间"),
    ({"windows": "1e9"}, "windows", "窗口数须为 0–99 的整数"),
    ({"windows": ""}, "windows", "请填写窗口数"),
    ({"kind": "subbranch", "parent": "{ZJK}", "windows": "3"}, "windows", "只有网点才有窗口"),
])
def test_bad_unit_input_is_shown_next_to_the_field_and_saves_nothing(
        admin, other_tree, changes, field, message):
    changes = {key: _resolve(value) for key, value in changes.items()}
    before = count(OrgUnit)
    response = admin.post("/admin/units/new", data=unit_form(**changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in error_next_to(page, field)
    assert count(OrgUnit) == before
    if field != "name":
        assert 'value="桥西网点"' in page


def _resolve(value: str) -> str:
    """Turn ``{CODE}`` into that unit's id."""
    if value.startswith("{") and value.endswith("}"):
        return str(unit(value[1:-1]).id)
    return value


def test_admin_edits_a_unit(admin):
    outlet = unit("ZJK-002")
    response = admin.post(f"/admin/units/{outlet.id}/edit", data={
        "name": "桥东支行网点", "parent": str(outlet.parent_id), "windows": "8"})
    assert response.status_code == 303
    assert (outlet.name, outlet.windows) == ("桥东支行网点", 8)
    assert (outlet.code, outlet.kind) == ("ZJK-002", "outlet")
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "org_unit.changed" and "桥东支行网点" in event.details


def test_moving_a_unit_carries_its_subtree(admin):
    services.create_unit("ZJK-QD", "桥东支行", "subbranch", unit("ZJK"), 0)
    moved = unit("ZJK-002")
    admin.post(f"/admin/units/{moved.id}/edit",
               data={"name": moved.name, "parent": str(unit("ZJK-QD").id), "windows": "4"})
    assert moved.path == "/HQ/ZJK/ZJK-QD/ZJK-002/"


def test_edit_form_shows_code_and_kind_read_only(admin):
    page = admin.get(f"/admin/units/{unit('ZJK-001').id}/edit").get_data(as_text=True)
    assert "ZJK-001" in page and 'name="code"' not in page and 'name="kind"' not in page
    assert 'value="营业部网点"' in page


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "windows": "6"}, "name", "请填写机构名称"),
    ({"name": "营业部网点", "windows": "100"}, "windows", "窗口数须在 0–99 之间"),
    ({"name": "营业部网点", "windows": "6", "parent": "{ZJK-001}"}, "parent", "请从列表中选择"),
    ({"name": "营业部网点", "windows": "6", "parent": "{ZJK-002}"}, "parent", "上级机构的层级必须高于本机构"),
    ({"name": "营业部网点", "windows": "6", "parent": ""}, "parent", "除总行外,机构必须有上级机构"),
])
def test_bad_unit_edit_is_shown_next_to_the_field_and_saves_nothing(admin, data, field, message):
    outlet = unit("ZJK-001")
    data = {"parent": str(outlet.parent_id), **{k: _resolve(v) for k, v in data.items()}}
    response = admin.post(f"/admin/units/{outlet.id}/edit", data=data)
    assert response.status_code == 200
    assert message in error_next_to(response.get_data(as_text=True), field)
    db.session.expire_all()
    assert (outlet.name, outlet.windows, outlet.path) == ("营业部网点", 6, "/HQ/ZJK/ZJK-YYB/ZJK-001/")


def test_a_unit_cannot_move_below_itself(admin):
    branch = unit("ZJK")
    response = admin.post(f"/admin/units/{branch.id}/edit", data={
        "name": branch.name, "parent": str(unit("ZJK-YYB").id), "windows": "0"})
    assert "请从列表中选择" in error_next_to(response.get_data(as_text=True), "parent")
    db.session.expire_all()
    assert branch.path == "/HQ/ZJK/"


def test_branch_admin_may_rename_their_root_unit_but_not_move_it_out(branch_admin):
    branch, hq = unit("ZJK"), unit("HQ")
    page = branch_admin.get(f"/admin/units/{branch.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{hq.id}">' in page
    response = branch_admin.post(f"/admin/units/{branch.id}/edit",
                                 data={"name": "张家口市分行", "parent": str(hq.id), "windows": "0"})
    assert response.status_code == 303 and branch.name == "张家口市分行" and branch.parent_id == hq.id


@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_or_out_of_scope_units_are_not_found(admin, branch_admin, other_tree, method):
    for client, unit_id in ((admin, 99999), (admin, other_tree["outlet"].id),
                            (branch_admin, unit("HQ").id)):
        response = getattr(client, method)(f"/admin/units/{unit_id}/edit",
                                           data={"name": "x", "windows": "0"})
        assert response.status_code == 404
    assert other_tree["outlet"].name == "他行网点" and unit("HQ").name == "总行"


# --- people list ------------------------------------------------------------------------

def listed_work_numbers(page: str) -> list[str]:
    return re.findall(r'<a href="/admin/people/\d+">([A-Z0-9]+)</a>', page)


def test_people_list_shows_active_people_in_scope(admin, other_tree):
    services.set_active(person("T1003"), False)
    page = admin.get("/admin/people").get_data(as_text=True)
    listed = listed_work_numbers(page)
    assert "T1001" in listed and "M0002" in listed and "A0001" in listed
    assert "T1003" not in listed and "Z0001" not in listed
    assert listed == sorted(listed)
    assert '<th scope="col">' in page and 'id="people-results"' in page


@pytest.mark.parametrize("status, present, absent", [
    ("inactive", ["T1003"], ["T1001"]),
    ("all", ["T1003", "T1001"], []),
    ("active", ["T1001"], ["T1003"]),
    ("nonsense", ["T1001"], ["T1003"]),
])
def test_people_list_filters_by_status(admin, status, present, absent):
    services.set_active(person("T1003"), False)
    listed = listed_work_numbers(admin.get(f"/admin/people?status={status}").get_data(as_text=True))
    assert all(w in listed for w in present) and not any(w in listed for w in absent)


@pytest.mark.parametrize("query, expected", [
    ("t100", ["T1001", "T1002", "T1003", "T1004", "T1005", "T1006"]),
    ("2001", ["T2001"]),
    ("王芳", ["T1001"]),
    ("芳", ["T1001"]),
    ("m000", ["M0001", "M0002"]),
    ("%", []),
    ("_", []),
    ("nobody", []),
])
def test_people_search_matches_work_number_or_name_partially(admin, query, expected):
    page = admin.get("/admin/people", query_string={"q": query}).get_data(as_text=True)
    assert listed_work_numbers(page) == expected
    if not expected:
        assert "没有符合条件的人员" in page


def test_people_list_filters_by_role(admin):
    page = admin.get("/admin/people?role=outlet_manager").get_data(as_text=True)
    assert listed_work_numbers(page) == ["M0001", "M0002"]


def test_people_list_hides_people_outside_the_subtree(branch_admin):
    listed = listed_work_numbers(branch_admin.get("/admin/people").get_data(as_text=True))
    assert "A0001" not in listed and "S0001" in listed and "T2004" in listed


def test_htmx_search_returns_only_the_results_fragment(admin):
    response = admin.get("/admin/people?q=t200", headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment and "<table" in fragment
    assert listed_work_numbers(fragment) == ["T2001", "T2002", "T2003", "T2004"]
    assert "HX-Request" in response.headers["Vary"]


def test_full_people_page_has_active_search_and_works_without_javascript(admin):
    response = admin.get("/admin/people?q=t200")
    page = response.get_data(as_text=True)
    assert "<html" in page and "HX-Request" in response.headers["Vary"]
    assert 'hx-get="/admin/people"' in page and 'hx-target="#people-results"' in page
    assert 'hx-trigger="input changed delay:200ms, search"' in page and 'hx-push-url="true"' in page
    assert '<form method="get" action="/admin/people"' in page and '<button type="submit">' in page
    assert page.count("<table") == 1
    assert listed_work_numbers(page) == ["T2001", "T2002", "T2003", "T2004"]


def test_history_restore_gets_the_whole_page(admin):
    page = admin.get("/admin/people", headers={"HX-Request": "true",
                                              "HX-History-Restore-Request": "true"})
    assert "<html" in page.get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "page=abc", "page=99999", "page=-3", "page=0", "page=" + "9" * 40, "role=boss",
    "status=", "q=" + "x" * 300, "per_page=100000",
])
def test_odd_people_list_parameters_never_fail(admin, query):
    assert admin.get(f"/admin/people?{query}").status_code == 200


def test_people_list_is_paginated(admin):
    add_people(30)
    first = admin.get("/admin/people").get_data(as_text=True)
    second = admin.get("/admin/people?page=2").get_data(as_text=True)
    assert len(listed_work_numbers(first)) == 25 and "第 1 / 2 页,共 46 条" in first
    assert len(listed_work_numbers(second)) == 21
    assert not set(listed_work_numbers(first)) & set(listed_work_numbers(second))


def test_people_list_runs_a_bounded_number_of_queries(admin, count_queries):
    def measured() -> int:
        db.session.expire_all()
        with count_queries() as statements:
            assert admin.get("/admin/people?status=all").status_code == 200
        return len(statements)

    add_people(5)
    few = measured()
    add_people(35, start=5)
    many = measured()
    assert few == many and many <= 5, (few, many)


# --- creating and editing people --------------------------------------------------------

def test_admin_creates_a_person(admin, client):
    response = admin.post("/admin/people/new", data=person_form(work_no="t1007"))
    created = person("T1007")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/people/{created.id}"
    assert (created.name, created.role, created.org_unit.code) == ("新柜员", TELLER, "ZJK-001")
    assert created.joined_on == date(2025, 3, 1) and created.active
    assert actions()[-1] == "person.created"
    assert AuthActions(client).login("T1007", "first-pass-2026").status_code == 302


@pytest.mark.parametrize("changes, field, message", [
    ({"work_no": ""}, "work_no", "请填写工号"),
    ({"work_no": "T-1"}, "work_no", "工号须为 2–20 位字母或数字"),
    ({"work_no": "t1001"}, "work_no", "工号已存在"),
    ({"name": " "}, "name", "请填写姓名"),
    ({"name": "名" * 51}, "name", "最多 50 个字符"),
    ({"role": ""}, "role", "请选择岗位"),
    ({"role": "boss"}, "role", "请从列表中选择"),
    ({"role": TELLER, "org_unit": "{ZJK}"}, "role", "柜员、大堂经理和网点负责人必须属于某个网点"),
    ({"org_unit": ""}, "org_unit", "请选择所在机构"),
    ({"org_unit": "{OTHER-01}"}, "org_unit", "请从列表中选择"),
    ({"joined_on": ""}, "joined_on", "请填写入职日期"),
    ({"joined_on": "2025-13-45"}, "joined_on", "请按 年-月-日 填写有效日期"),
    ({"joined_on": "yesterday"}, "joined_on", "请按 年-月-日 填写有效日期"),
    ({"password": ""}, "password", "请填写初始密码"),
    ({"password": "short"}, "password", "密码长度须为 8–64 个字符"),
    ({"password": "x" * 65}, "password", "密码长度须为 8–64 个字符"),
])
def test_bad_person_input_is_shown_next_to_the_field_and_saves_nothing(
        admin, other_tree, changes, field, message):
    changes = {key: _resolve(value) for key, value in changes.items()}
    before = count(Person)
    response = admin.post("/admin/people/new", data=person_form(**changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in error_next_to(page, field)
    assert count(Person) == before
    if field != "name":
        assert 'value="新柜员"' in page


def test_person_detail_shows_facts_actions_and_history(admin):
    teller = person("T1002")
    services.update_person(teller, "李娜娜", TELLER, teller.org_unit, teller.joined_on)
    page = admin.get(f"/admin/people/{teller.id}").get_data(as_text=True)
    for text in ("T1002", "李娜娜", "柜员", "营业部网点", "在岗", "person.changed", "person.created"):
        assert text in page
    assert page.index("person.changed") < page.index("person.created")
    for action in ("deactivate", "photo"):
        assert f'action="/admin/people/{teller.id}/{action}"' in page
    assert f'href="/admin/people/{teller.id}/edit"' in page
    assert f'href="/admin/people/{teller.id}/password"' in page
    assert 'enctype="multipart/form-data"' in page


def test_person_history_is_limited_to_fifty_lines(admin):
    teller = person("T1002")
    for i in range(55):
        services.update_person(teller, f"名字{i}", TELLER, teller.org_unit, teller.joined_on)
    page = admin.get(f"/admin/people/{teller.id}").get_data(as_text=True)
    assert page.count("person.changed") == 50 and "名字54" in page


def test_admin_edits_a_person_and_their_sessions_end_on_a_new_role(app, admin):
    lobby = person("L0001")
    signed_in = sign_in_as(app.test_client(), "L0001")
    response = admin.post(f"/admin/people/{lobby.id}/edit", data={
        "name": "马丽丽", "role": "outlet_manager", "org_unit": str(unit("ZJK-002").id),
        "joined_on": "2016-04-02", "work_no": "HACKED", "active": "0"})
    assert response.status_code == 303
    assert (lobby.name, lobby.role, lobby.org_unit.code) == ("马丽丽", "outlet_manager", "ZJK-002")
    assert lobby.joined_on == date(2016, 4, 2) and lobby.work_no == "L0001" and lobby.active
    assert signed_in.get("/").status_code == 302


def test_edit_form_is_filled_with_the_current_values(admin):
    teller = person("T1001")
    page = admin.get(f"/admin/people/{teller.id}/edit").get_data(as_text=True)
    assert 'value="王芳"' in page and '<option selected value="teller">' in page
    assert f'<option selected value="{teller.org_unit_id}">' in page
    assert 'name="work_no"' not in page


@pytest.mark.parametrize("changes, field, message", [
    ({"org_unit": "{ZJK}"}, "role", "必须属于某个网点"),
    ({"name": ""}, "name", "请填写姓名"),
    ({"role": "king"}, "role", "请从列表中选择"),
    ({"joined_on": "2025-02-30"}, "joined_on", "有效日期"),
])
def test_bad_person_edit_is_shown_next_to_the_field_and_saves_nothing(
        admin, changes, field, message):
    teller = person("T1001")
    data = {"name": "王芳芳", "role": TELLER, "org_unit": str(teller.org_unit_id),
            "joined_on": "2017-02-01", **{k: _resolve(v) for k, v in changes.items()}}
    response = admin.post(f"/admin/people/{teller.id}/edit", data=data)
    assert response.status_code == 200
    assert message in error_next_to(response.get_data(as_text=True), field)
    db.session.expire_all()
    assert (teller.name, teller.org_unit.code) == ("王芳", "ZJK-001")


PERSON_ROUTES = [
    ("get", ""), ("get", "/edit"), ("post", "/edit"), ("post", "/deactivate"),
    ("post", "/activate"), ("get", "/password"), ("post", "/password"), ("post", "/photo"),
]


@pytest.mark.parametrize("method, suffix", PERSON_ROUTES)
def test_unknown_or_out_of_scope_people_are_not_found(
        admin, branch_admin, other_tree, method, suffix):
    data = {"password": "whatever-2026", "confirm": "whatever-2026", "name": "x"}
    for client, person_id in ((admin, 99999), (admin, other_tree["teller"].id),
                              (branch_admin, person("A0001").id)):
        response = getattr(client, method)(f"/admin/people/{person_id}{suffix}", data=data)
        assert response.status_code == 404
    outsider = other_tree["teller"]
    assert outsider.active and outsider.check_password(PASSWORD)


# --- activation and passwords -----------------------------------------------------------

def test_deactivation_ends_the_persons_sessions(admin, teller):
    target = person("T1001")
    assert teller.get("/").status_code == 200
    response = admin.post(f"/admin/people/{target.id}/deactivate")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/people/{target.id}"
    assert not target.active and actions()[-1] == "person.deactivated"
    signed_out = teller.get("/")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    assert "账户已停用" in admin.get(f"/admin/people/{target.id}").get_data(as_text=True)


def test_activation_lets_the_person_sign_in_again(admin, client):
    target = person("T1001")
    services.set_active(target, False)
    response = admin.post(f"/admin/people/{target.id}/activate")
    assert response.status_code == 303 and target.active
    assert AuthActions(client).login("T1001").status_code == 302


def test_an_admin_cannot_deactivate_themselves(admin):
    me = person("A0001")
    response = admin.post(f"/admin/people/{me.id}/deactivate", follow_redirects=True)
    assert "不能停用自己的账户" in response.get_data(as_text=True)
    assert me.active
    assert f"/admin/people/{me.id}/deactivate" not in response.get_data(as_text=True)


def test_password_reset_lets_them_sign_in_with_the_new_password(app, admin, client):
    target = person("T1001")
    old_session = sign_in_as(app.test_client(), "T1001")
    response = admin.post(f"/admin/people/{target.id}/password",
                          data={"password": "reset-pass-2026", "confirm": "reset-pass-2026"})
    assert response.status_code == 303
    assert old_session.get("/").status_code == 302
    auth = AuthActions(client)
    assert auth.login("T1001", PASSWORD).status_code == 200
    assert auth.login("T1001", "reset-pass-2026").status_code == 302
    assert "person.password_reset" in actions()


@pytest.mark.parametrize("data, field, message", [
    ({"password": "reset-pass-2026", "confirm": "other-pass-2026"}, "confirm", "两次输入的新密码不一致"),
    ({"password": "short", "confirm": "short"}, "password", "密码长度须为 8–64 个字符"),
    ({"password": "x" * 65, "confirm": "x" * 65}, "password", "密码长度须为 8–64 个字符"),
    ({"password": "", "confirm": ""}, "password", "请填写新密码"),
])
def test_bad_new_password_is_shown_next_to_the_field(admin, data, field, message):
    target = person("T1001")
    response = admin.post(f"/admin/people/{target.id}/password", data=data)
    assert response.status_code == 200
    assert message in error_next_to(response.get_data(as_text=True), field)
    assert target.check_password(PASSWORD)


# --- photos -----------------------------------------------------------------------------

def stored_photo(app, someone: Person) -> Path:
    return Path(app.instance_path) / "photos" / someone.photo


def test_a_real_png_is_stored_as_a_small_jpeg(app, admin):
    target = person("T1001")
    response = upload(admin, target, image_bytes("PNG", (1000, 800), "RGBA"), "me.png")
    assert response.status_code == 303
    assert re.fullmatch(rf"{target.id}-[0-9a-f]{{16}}\.jpg", target.photo)
    with Image.open(stored_photo(app, target)) as saved:
        assert saved.format == "JPEG" and saved.mode == "RGB"
        assert saved.size == (400, 320)
    served = admin.get(f"/people/{target.id}/photo")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert actions()[-1] == "person.photo_changed"


def test_a_jpeg_loses_its_metadata(app, admin):
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    target = person("T1002")
    content = image_bytes("JPEG", (300, 200), exif=exif.tobytes())
    assert b"CameraMaker" in content
    assert upload(admin, target, content, "photo.JPG").status_code == 303
    saved = stored_photo(app, target)
    assert b"CameraMaker" not in saved.read_bytes()
    with Image.open(saved) as image:
        assert not image.getexif() and image.size == (300, 200)


@pytest.mark.parametrize("content, filename, message", [
    (b"just some text, not a picture", "photo.png", "文件不是有效的图片"),
    (b"\x89PNG\r\n\x1a\n" + b"broken" * 20, "photo.png", "文件不是有效的图片"),
    (image_bytes("GIF", (50, 50)), "photo.png", "只能上传 JPEG 或 PNG 格式的图片"),
    (image_bytes("BMP", (50, 50)), "photo.jpg", "只能上传 JPEG 或 PNG 格式的图片"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "big.png", "照片不能超过 5 MB"),
])
def test_a_bad_photo_is_refused_next_to_the_field(app, admin, content, filename, message):
    target = person("T1001")
    response = upload(admin, target, content, filename)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in error_next_to(page, "photo")
    assert "<html" in page and "T1001" in page
    assert target.photo is None
    photos = Path(app.instance_path) / "photos"
    assert not photos.exists() or not any(photos.iterdir())


def test_a_photo_of_exactly_five_megabytes_is_accepted(admin):
    padded = image_bytes("PNG", (40, 40))
    padded += b"\0" * (5 * 1024 * 1024 - len(padded))
    target = person("T1001")
    assert upload(admin, target, padded, "ok.png").status_code == 303
    assert target.photo is not None


def test_a_missing_photo_file_is_refused(admin):
    target = person("T1001")
    response = admin.post(f"/admin/people/{target.id}/photo", data={},
                          content_type="multipart/form-data")
    assert response.status_code == 400
    assert "请选择要上传的照片" in error_next_to(response.get_data(as_text=True), "photo")


# --- API tokens -------------------------------------------------------------------------

def test_a_new_token_is_shown_once_and_stored_only_as_a_hash(admin):
    response = admin.post("/admin/tokens", data={"name": "排队叫号系统"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    plain = re.search(r'<p class="token">(wyb_[A-Za-z0-9_-]+)</p>', page).group(1)
    assert "只显示这一次" in page
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.name == "排队叫号系统"
    assert stored.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in (stored.name, stored.prefix, stored.token_hash)
    assert plain.startswith(stored.prefix)
    with admin.session_transaction() as session:
        assert plain not in str(dict(session))
    later = admin.get("/admin/tokens").get_data(as_text=True)
    assert plain not in later and "排队叫号系统" in later and stored.prefix in later
    assert actions()[-1] == "api_token.created"


def test_a_new_token_authenticates_the_api(admin, client):
    page = admin.post("/admin/tokens", data={"name": "HR"}).get_data(as_text=True)
    plain = re.search(r'<p class="token">([^<]+)</p>', page).group(1)
    response = client.get("/api/v1/people/T1001", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200 and response.get_json()["work_no"] == "T1001"


@pytest.mark.parametrize("name, message", [("", "请填写令牌名称"), ("   ", "请填写令牌名称"),
                                           ("名" * 81, "最多 80 个字符")])
def test_a_bad_token_name_is_refused_next_to_the_field(admin, name, message):
    response = admin.post("/admin/tokens", data={"name": name})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in error_next_to(page, "name")
    assert count(ApiToken) == 0 and 'class="token"' not in page


def test_a_revoked_token_no_longer_authenticates(admin, client):
    token, plain = create_token("HR")
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/people/T1001", headers=headers).status_code == 200
    response = admin.post(f"/admin/tokens/{token.id}/revoke")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/tokens"
    assert token.revoked_at is not None
    assert client.get("/api/v1/people/T1001", headers=headers).status_code == 401
    page = admin.get("/admin/tokens").get_data(as_text=True)
    assert "已作废" in page and f"/admin/tokens/{token.id}/revoke" not in page


def test_revoking_an_unknown_token_is_not_found(admin):
    assert admin.post("/admin/tokens/99999/revoke").status_code == 404


# --- audit history ----------------------------------------------------------------------

def test_audit_page_lists_the_changes_made(admin):
    admin.post("/admin/units/new", data=unit_form())
    admin.post(f"/admin/people/{person('T1004').id}/deactivate")
    response = admin.get("/admin/audit")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index("person.deactivated") < page.index("org_unit.created")
    assert "系统管理员(A0001)" in page and f"Person #{person('T1004').id}" in page
    for column in ("时间", "操作人", "操作", "对象", "详情"):
        assert f'<th scope="col">{column}</th>' in page


def test_audit_page_filters_by_action_prefix_and_actor(admin, teller):
    admin.post(f"/admin/people/{person('T1004').id}/deactivate")
    page = admin.get("/admin/audit?q=person.").get_data(as_text=True)
    assert "person.deactivated" in page and "org_unit.created" not in page
    page = admin.get("/admin/audit?actor=a0001").get_data(as_text=True)
    assert "person.deactivated" in page and "person.created" not in page
    page = admin.get("/admin/audit?q=person.&actor=T1001").get_data(as_text=True)
    assert "没有操作记录" in page


def test_audit_details_are_shown_as_text(admin):
    admin.post("/admin/units/new", data=unit_form(name='<b hx-get="/x">粗</b>'))
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "&lt;b hx-get=" in page and '<b hx-get="/x">' not in page


def test_audit_page_hides_other_subtrees(branch_admin, other_tree):
    page = branch_admin.get("/admin/audit?page=1").get_data(as_text=True)
    assert "org_unit.created" in page
    assert f"OrgUnit #{other_tree['outlet'].id}" not in page and "OTHER" not in page


def _old_audit_line(action: str, days: int) -> None:
    """An audit line about T1001 written ``days`` days ago (the table only takes inserts)."""
    db.session.add(AuditEvent(at=utcnow() - timedelta(days=days), actor_id=person("A0001").id,
                              action=action, object_type="Person",
                              object_id=str(person("T1001").id),
                              org_unit_id=person("T1001").org_unit_id, details="{}"))
    db.session.commit()


def test_audit_page_shows_the_last_month_unless_told_other_days(admin):
    admin.post(f"/admin/people/{person('T1004').id}/deactivate")
    _old_audit_line("person.deactivated", 40)
    today = local_today()
    page = admin.get("/admin/audit?q=person.deactivated").get_data(as_text=True)
    assert page.count("<td>person.deactivated</td>") == 1  # the 40-day-old line is outside the month
    assert f'value="{today - timedelta(days=30)}"' in page and f'value="{today}"' in page
    since = today - timedelta(days=41)
    page = admin.get(f"/admin/audit?q=person.deactivated&since={since}").get_data(as_text=True)
    assert page.count("<td>person.deactivated</td>") == 2
    until = today - timedelta(days=35)
    page = admin.get(f"/admin/audit?q=person.deactivated&since={since}&until={until}"
                     ).get_data(as_text=True)
    assert page.count("<td>person.deactivated</td>") == 1


def test_audit_page_says_when_the_range_is_backwards_or_not_a_date(admin):
    today = local_today()
    response = admin.get(f"/admin/audit?since={today}&until={today - timedelta(days=3)}")
    assert response.status_code == 200
    assert "截止日期不能早于起始日期。" in response.get_data(as_text=True)
    response = admin.get("/admin/audit?since=2026-13-01")
    assert response.status_code == 200 and 'aria-invalid="true"' in response.get_data(as_text=True)


def test_audit_page_is_paginated_and_tolerates_odd_pages(admin):
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert 'class="pager"' not in page  # the 21 lines of the demo seed fit on one page
    for query in ("page=2", "page=abc", "page=99999", "actor=" + "x" * 100):
        assert admin.get(f"/admin/audit?{query}").status_code == 200
    for i in range(30):
        services.update_unit(unit("ZJK-001"), f"网点{i}", unit("ZJK-YYB"), 6)
    assert "第 1 / 3 页" in admin.get("/admin/audit").get_data(as_text=True)
