"""The permission matrix's outlet dimension and the headers of every response, from app.url_map.

tests/test_permissions.py proves route × role. Here every route that names an object (in its URL
or through ``?outlet=``) is asked for an object of outlet ZJK-002 by ZJK-001's teller, lobby
manager and outlet manager, and by the service office of another branch: a role the route is not
for gets 403 (the role check comes first, as designed), any other role 404, and no answer —
page, fragment, .xlsx or photo — carries ZJK-002's private data. Writes are refused the same way
and change no row; the same requests made by ZJK-002's own people succeed, so the refusals are
the scope check's doing and not a bad sample.

A new route whose URL argument is not in ARGUMENTS fails test_every_url_argument_has_a_sample;
a new unsafe route taking an object that is not in WRITES fails
test_every_write_naming_an_object_is_in_the_write_table.
"""
import io
import zipfile
from datetime import date, timedelta

from PIL import Image
from sqlalchemy import select, text

from portal.blueprints.admin import services as admin_services
from portal.blueprints.api.services import create_token
from portal.blueprints.checklist import services as checklist_services
from portal.blueprints.checklist.models import NA, PASS, PROBLEM
from portal.blueprints.complaints import services as complaint_services
from portal.blueprints.ledger import services as ledger_services
from portal.blueprints.ratings.models import Window
from portal.extensions import db
from portal.models import OFFICE, OrgUnit
from portal.periods import month_of, quarter_of
from portal.proposals import PointsProposal
from portal.timeutil import local_today, utcnow

from .conftest import ROLE_ACCOUNTS, person, sign_in_as
from .honours_helpers import give_photo, nominated
from .ratings_helpers import make_rating
from .test_permissions import ACCESS, PUBLIC, STAFF, TOKEN, _sample_values

MARK = "ZJK2SECRET"  # in every private text of ZJK-002's sample objects
OTHER, OWN = "ZJK-002", "ZJK-001"
#: who asks: ZJK-001's outlet roles and the service office of a branch that does not hold ZJK-002
VIEWERS = {"teller": "T1001", "lobby": "L0001", "manager": "M0001", "office": "S0009"}
#: ZJK-002's own people (and the office and admin above it), for the controls
OWNERS = ("T2001", "L0002", "M0002", "S0001", "A0001")

# What each URL argument name stands for, and which value of ZJK-002's to put in:
#   object - a thing belonging to ZJK-002 (key into the world's samples)
#   value  - not an object; the outlet comes from ?outlet= (checklist days, item numbers)
#   global - a bank-wide thing without an outlet (template versions, API tokens, rule codes)
#   public - public by design (a window's QR token: anyone who scans it may rate)
ARGUMENTS = {
    "person_id": ("object", "person_id"),
    "unit_id": ("object", "unit_id"),
    "rating_id": ("object", "rating_id"),
    "complaint_id": ("object", "complaint_id"),
    "mark_id": ("object", "mark_id"),
    "entry_id": ("object", "entry_id"),
    "proposal_id": ("object", "proposal_id"),
    "honour_id": ("object", "honour_id"),
    "window_id": ("object", "window_id"),
    "outlet_code": ("object", "outlet_code"),
    "work_no": ("object", "work_no"),
    "code": ("object", "outlet_code"),  # /api/v1/outlets/<code>/score
    "day": ("value", "day"),
    "number": ("value", "number"),
    "action": ("value", "action"),
    "version": ("global", "version"),
    "token_id": ("global", "token_id"),
    "token": ("public", "token"),
    "filename": ("global", "filename"),
}
#: the same name meaning something else on one route
OVERRIDES = {("ledger.rule_edit", "code"): ("global", "rule_code")}


def _argument(endpoint: str, name: str) -> tuple[str, str]:
    return OVERRIDES.get((endpoint, name)) or ARGUMENTS[name]


def _rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def _kinds(rule) -> set[str]:
    return {_argument(rule.endpoint, name)[0] for name in rule.arguments}


def test_every_url_argument_has_a_sample(app):
    unknown = sorted({f"{rule.endpoint}:{name}" for rule in app.url_map.iter_rules()
                      for name in rule.arguments
                      if (rule.endpoint, name) not in OVERRIDES and name not in ARGUMENTS})
    assert not unknown, f"URL arguments without an other-outlet sample in ARGUMENTS: {unknown}"


# --- the world: ZJK-002's objects, a second branch with its own service office ------------------

def _photo_file(folder, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), "blue").save(folder / name, "JPEG")
    return name


def _unit(code: str) -> OrgUnit:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def _second_branch() -> None:
    """Branch XYZ (sub-branch XYZ-YYB, outlet XYZ-001) with its service office S0009."""
    branch = admin_services.build_unit("XYZ", "其他分行", "branch", _unit("HQ"), 0)
    sub = admin_services.build_unit("XYZ-YYB", "其他营业部", "subbranch", branch, 0)
    admin_services.build_unit("XYZ-001", "其他网点", "outlet", sub, 2)
    admin_services.build_person("S0009", "外行文优", OFFICE, branch, date(2015, 1, 1),
                                "demo-pass-2026")
    db.session.commit()


def _world(app) -> dict:
    """ZJK-002's sample objects, each private text carrying MARK; returns URL values by name."""
    from pathlib import Path

    _second_branch()
    today, now = local_today(), utcnow()
    outlet, l0002, t2001 = _unit(OTHER), person("L0002"), person("T2001")
    give_photo("T2001")
    low, alert = (make_rating(t2001, stars, today, comment=f"{MARK} 评价{stars}")
                  for stars in (1, 2))
    complaint = complaint_services.create(complaint_services.NewComplaint(
        channel="walk_in", outlet=outlet, category="waiting", description=f"{MARK} 等候过长",
        customer_phone="13800002222"), l0002, now)
    complaint_services.transfer(complaint, l0002, t2001, f"{MARK} 请说明", now)
    sheet = checklist_services.open_sheet(outlet, today, l0002, now)
    photo = _photo_file(Path(app.instance_path) / "checklist", f"{sheet.id}-1-test.jpg")
    problem = checklist_services.mark(sheet, 1, PROBLEM, l0002, now, checklist_services.Problem(
        f"{MARK} 地面有杂物", [], None, photo))
    for number in range(2, 21):
        checklist_services.mark(sheet, number, PASS, l0002, now)
    entry = ledger_services.record(t2001, "R04", today, now, reason=f"{MARK} 台账")
    proposals = []
    for month in ("2026-01", "2026-02"):
        proposals.append(PointsProposal(
            person_id=t2001.id, org_unit_id=outlet.id, rule_code="R15", points=-1, money=100,
            reason=f"{MARK} 建议", evidence_kind="rating_month", evidence_ref=month))
    db.session.add_all(proposals)
    db.session.commit()
    honour = nominated("T2001", citation=f"{MARK} 表彰事迹")
    rejected = nominated("T2002", citation=f"{MARK} 另一事迹")
    window = db.session.scalar(select(Window).where(Window.outlet_id == outlet.id,
                                                    Window.number == 1))
    token, _ = create_token("matrix")
    return {
        "person_id": t2001.id, "unit_id": outlet.id, "rating_id": low.id,
        "alert_rating_id": alert.id, "complaint_id": complaint.id, "mark_id": problem.id,
        "entry_id": entry.id, "proposal_id": proposals[0].id, "proposal_id_2": proposals[1].id,
        "honour_id": honour.id, "honour_id_2": rejected.id, "window_id": window.id,
        "outlet_code": OTHER, "work_no": "T2001", "day": today.isoformat(), "number": 1,
        "number_2": 2,
        "action": "note", "version": 1, "token_id": token.id, "token": window.token,
        "rule_code": "R08", "filename": "portal.css",
    }


def _path(rule, world: dict, **overrides) -> str:
    values = {name: overrides.get(name, world[_argument(rule.endpoint, name)[1]])
              for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1] + f"?outlet={OTHER}"


def _client(app, work_no: str):
    return sign_in_as(app.test_client(), work_no)


def _allowed(endpoint: str, role: str) -> bool:
    access = ACCESS[endpoint]
    return access in (PUBLIC, STAFF) or (access != TOKEN and role in access)


def _text(response) -> str:
    """The answer as text; an .xlsx is unzipped so its cells are searched too."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    return data.decode("utf-8", "replace")


# --- reads ------------------------------------------------------------------------------------

VARIANTS = ({}, {"HX-Request": "true"})  # the page, and the htmx fragment


def _expected(rule, role: str) -> str:
    """'403', '401', '404', or 'any' (the page may ignore ?outlet=; it must not leak)."""
    access = ACCESS[rule.endpoint]
    if access == TOKEN:
        return "401"
    if not _allowed(rule.endpoint, role):
        return "403"
    kinds = _kinds(rule)
    if "object" in kinds or "value" in kinds:
        return "404"
    return "any"


def test_another_outlets_objects_answer_404_and_never_leak(app):
    """Every GET route, with ZJK-002's objects in the URL and ?outlet=ZJK-002 (page, htmx
    fragment, ?format=xlsx), as ZJK-001's teller, lobby and outlet manager and as another
    branch's service office (one world for the four, since reading changes nothing)."""
    world, failures, leaks = _world(app), [], []
    for role, work_no in VIEWERS.items():
        client = _client(app, work_no)
        for rule in _rules(app):
            if "GET" not in rule.methods or "public" in _kinds(rule):
                continue
            expected = _expected(rule, role)
            path = _path(rule, world)
            # a refused role is refused before any branching: one request is enough there
            refused = expected in ("401", "403")
            variants = [(path, headers) for headers in (VARIANTS[:1] if refused else VARIANTS)]
            if expected == "any":
                variants.append((path + "&format=xlsx", {}))
            for url, headers in variants:
                response = client.get(url, headers=headers)
                code = response.status_code
                ok = (str(code) == expected if expected != "any"
                      else code == 404 or code < 400)
                if not ok:
                    failures.append(f"{role} {url} {headers or ''} -> {code}, expected {expected}")
                if MARK in _text(response):
                    leaks.append(f"{role} {url} {headers or ''} -> {code}")
    assert not leaks, f"ZJK-002's data shown to: {leaks}"
    assert not failures, failures


def test_the_samples_are_visible_to_their_own_outlet(app):
    """Control: each object URL above answers < 400 to one of ZJK-002's own people (or the office
    above it), so the 404s come from the scope check, not from a missing sample."""
    world, missing = _world(app), []
    on_no_board = {"honours.photo", "honours.screen_photo"}  # the sample is on no honours board
    clients = {work_no: _client(app, work_no) for work_no in OWNERS}
    for rule in _rules(app):
        if "GET" not in rule.methods or ACCESS[rule.endpoint] == TOKEN \
                or rule.endpoint in on_no_board or not _kinds(rule) & {"object", "value"}:
            continue
        path = _path(rule, world)
        codes = {}
        for work_no, client in clients.items():
            codes[work_no] = client.get(path, headers={"HX-Request": "true"}).status_code
            if codes[work_no] < 400:
                break
        else:
            missing.append(f"{path}: {codes}")
    assert not missing, f"samples no owner can open: {missing}"
    # and the leak check has teeth: these lists show ZJK-002's private texts to the office above
    # it, so they would show them to ZJK-001 too if they ignored the scope
    office, blind = clients["S0001"], []
    for path in LISTS_WITH_PRIVATE_TEXT:
        if MARK not in _text(office.get(f"{path}?outlet={OTHER}")):
            blind.append(path)
    assert not blind, f"lists that no longer show the sample texts: {blind}"


LISTS_WITH_PRIVATE_TEXT = ("/checklist/problems", "/checklist/problems.xlsx", "/ratings/alerts",
                           "/ratings/alerts.xlsx", "/ratings/proposals", "/ratings/proposals.xlsx",
                           "/ledger/proposals", "/honours/nominations")


def test_an_approved_honour_is_on_the_sub_branch_board_but_not_another_branchs(app):
    """By design (SPEC 6) the honours board is the sub-branch's: ZJK-001's staff see an approved
    honour of ZJK-002 and its photo; another branch's office does not."""
    from .honours_helpers import approved_star

    _second_branch()
    honour = approved_star("T2003", citation="桥东网点的月度明星")
    path = f"/honours/people/{honour.person_id}/photo"
    assert _client(app, "T1001").get(path).status_code == 200
    outsider = _client(app, "S0009")
    assert outsider.get(path).status_code == 404
    assert "桥东网点的月度明星" not in outsider.get("/honours/").get_data(as_text=True)


# --- writes -----------------------------------------------------------------------------------

def _version(model_name: str, key: str):
    def payload(world):
        from portal.blueprints.complaints.models import Complaint
        from portal.blueprints.honours.models import Honour
        from portal.blueprints.ledger.models import LedgerEntry

        model = {"complaint": Complaint, "honour": Honour, "entry": LedgerEntry}[model_name]
        db.session.expire_all()
        return str(db.session.get(model, world[key]).version)
    return payload


def _previous_quarter() -> str:
    return quarter_of(quarter_of(local_today()).start - timedelta(days=1)).label


#: every unsafe route naming an object: (URL value overrides by world key, form data, the owner
#: whose same request must succeed — in this order, since each control changes the world; None
#: where the route is the admin's alone and refused by role before any object is read)
WRITES = {
    "checklist.item": ({"number": "number_2"}, lambda w: {"state": NA}, "L0002"),
    "checklist.sign": ({}, lambda w: {}, "M0002"),
    "checklist.reopen": ({}, lambda w: {"reason": "复核后重新打开"}, "S0001"),
    "checklist.rectify": ({}, lambda w: {"note": "已清理"}, "L0002"),
    "complaints.act": ({}, lambda w: {"text": "跟进记录", "version": _version(
        "complaint", "complaint_id")(w)}, "M0002"),
    "complaints.from_rating": ({"rating_id": "alert_rating_id"}, lambda w: {}, "M0002"),
    "honours.approve": ({}, lambda w: {f"approve-{w['honour_id']}-version": _version(
        "honour", "honour_id")(w)}, "S0001"),
    "honours.reject": ({"honour_id": "honour_id_2"}, lambda w: {
        f"reject-{w['honour_id_2']}-version": _version("honour", "honour_id_2")(w),
        f"reject-{w['honour_id_2']}-note": "事迹不足"}, "S0001"),
    "ledger.entry_confirm": ({}, lambda w: {f"confirm-{w['entry_id']}-version": _version(
        "entry", "entry_id")(w)}, "M0002"),
    "ledger.entry_revoke": ({}, lambda w: {
        f"revoke-{w['entry_id']}-version": _version("entry", "entry_id")(w),
        f"revoke-{w['entry_id']}-reason": "记错了"}, "S0001"),
    "ledger.proposal_confirm": ({}, lambda w: {}, "M0002"),
    "ledger.proposal_dismiss": ({"proposal_id": "proposal_id_2"}, lambda w: {
        f"dismiss-{w['proposal_id_2']}-note": "不予采纳"}, "M0002"),
    "ratings.appeal": ({}, lambda w: {"reason": "顾客误触了差评"}, "T2001"),
    "ratings.rating_decide": ({}, lambda w: {"decision": "keep", "reason": "评价属实",
                                             "back": "appeals"}, "M0002"),
    "ratings.rating_seen": ({"rating_id": "alert_rating_id"}, lambda w: {}, "M0002"),
    "ratings.level_confirm": ({}, lambda w: {"quarter": _previous_quarter()}, "M0002"),
    "ratings.window_token_replace": ({}, lambda w: {}, "M0002"),
    "admin.person_activate": ({}, lambda w: {}, None),
    "admin.person_deactivate": ({}, lambda w: {}, None),
    "admin.person_edit": ({}, lambda w: {"name": "改名"}, None),
    "admin.person_password": ({}, lambda w: {"new": "x" * 12, "confirm": "x" * 12}, None),
    "admin.person_photo": ({}, lambda w: {}, None),
    "admin.unit_edit": ({}, lambda w: {"name": "改名"}, None),
}

#: unsafe routes naming another outlet's object in a form field instead of the URL:
#: (roles to refuse, form data, owner whose same request must succeed)
FIELD_WRITES = {
    "ledger.new": (("manager", "office"), lambda w: {
        "person": "T2001", "rule": "R04", "day": local_today().isoformat(),
        "reason": "越权记一笔"}, "M0002"),
    "honours.nominate": (("manager",), lambda w: {
        "person": "T2001", "title": "post_expert",
        "period": month_of(local_today().replace(day=1) - timedelta(days=1)).label,
        "citation": "越权推荐的事迹,服务热情周到。"}, "M0002"),
    "complaints.intake": (("lobby", "manager", "office"), lambda w: {
        "channel": "walk_in", "outlet": OTHER, "category": "waiting", "level": "outlet",
        "description": "越权登记的投诉内容", "customer_phone": "13800003333"}, "L0002"),
}


def _writes(app):
    return [rule for rule in _rules(app) if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
            and _kinds(rule) & {"object", "value"}]


def test_every_write_naming_an_object_is_in_the_write_table(app):
    missing = sorted({rule.endpoint for rule in _writes(app)} - set(WRITES))
    assert not missing, f"unsafe routes taking an object, not in WRITES: {missing}"
    assert not set(FIELD_WRITES) & set(WRITES)


def _snapshot() -> dict:
    """Every row of every table (sorted), to prove a refused write changed nothing."""
    db.session.rollback()
    rows = {}
    for table in db.metadata.sorted_tables:
        found = db.session.execute(text(f'SELECT * FROM "{table.name}"')).all()  # nosec B608
        rows[table.name] = sorted(repr(tuple(row)) for row in found)
    db.session.rollback()
    return rows


def _changed(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def _post(app, work_no: str, rule, world, overrides: dict, data):
    values = {name: world[key] for name, key in overrides.items()}
    return _client(app, work_no).post(_path(rule, world, **values), data=data(world))


def test_writes_to_another_outlets_objects_are_refused_and_change_nothing(app):
    world = _world(app)
    rules = {rule.endpoint: rule for rule in _writes(app)}
    before, failures = _snapshot(), []
    for endpoint, (overrides, data, _owner) in WRITES.items():
        rule = rules[endpoint]
        for role, work_no in VIEWERS.items():
            expected = 404 if _allowed(endpoint, role) else 403
            response = _post(app, work_no, rule, world, overrides, data)
            if response.status_code != expected or MARK in _text(response):
                failures.append(f"{role} {endpoint} -> {response.status_code} "
                                f"(expected {expected})")
        changed = _changed(before, _snapshot())  # after all four viewers tried
        if changed:
            failures.append(f"{endpoint}: a refused write changed {changed}")
    for endpoint, (roles, data, _owner) in FIELD_WRITES.items():
        for role in roles:
            response = _client(app, VIEWERS[role]).post(
                app.url_map.bind("").build(endpoint), data=data(world))
            if response.status_code < 400:
                failures.append(f"{role} {endpoint} (form names ZJK-002) -> "
                                f"{response.status_code}")
        changed = _changed(before, _snapshot())
        if changed:
            failures.append(f"{endpoint}: a refused write changed {changed}")
    assert not failures, failures
    # controls: the same requests by ZJK-002's own people go through and change something
    refused = []
    for endpoint, (overrides, data, owner) in WRITES.items():
        if owner is None:
            continue
        start = _snapshot()
        response = _post(app, owner, rules[endpoint], world, overrides, data)
        if response.status_code >= 400 or not _changed(start, _snapshot()):
            refused.append(f"{owner} {endpoint} -> {response.status_code}")
    for endpoint, (_roles, data, owner) in FIELD_WRITES.items():
        start = _snapshot()
        response = _client(app, owner).post(app.url_map.bind("").build(endpoint),
                                            data=data(world))
        if response.status_code >= 400 or not _changed(start, _snapshot()):
            refused.append(f"{owner} {endpoint} -> {response.status_code}")
    assert not refused, f"controls that did not go through (bad sample data?): {refused}"


# --- headers on every response (RELIABILITY 10) -----------------------------------------------

#: RELIABILITY 10's policy, directive by directive, plus the one addition the portal needs:
#: img-src data: for the QR codes drawn as data: URIs (ratings/duty.py qr_data_uri)
CSP = {"default-src": "'self'", "object-src": "'none'", "base-uri": "'none'",
       "frame-ancestors": "'none'", "form-action": "'self'", "img-src": "'self' data:"}


def _header_problems(response, signed_in: bool) -> list[str]:
    headers, problems = response.headers, []
    csp = headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";")
                      if part.strip())
    if directives != CSP or "unsafe-" in csp:
        problems.append(f"CSP {csp!r}")
    for name, value in (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
                        ("X-Frame-Options", "DENY")):
        if headers.get(name) != value:
            problems.append(f"{name} {headers.get(name)!r}")
    if signed_in and "no-store" not in headers.get("Cache-Control", ""):
        problems.append(f"Cache-Control {headers.get('Cache-Control')!r}")
    return [f"{response.status_code} {problem}" for problem in problems]


#: query strings a route needs to answer below 400
QUERIES = {"api.person_ratings": "?period=2026-01"}
#: the permission table's value of ``code`` is a rule code; the API's ``code`` is an outlet's
OWN_OVERRIDES = {("api.outlet_score", "code"): OWN}
#: roles tried in turn until one gets an answer below 400 (the manager opens most pages)
ROLE_ORDER = ("manager", "office", "admin", "lobby", "teller")


def _photos_on_file(app, values: dict) -> None:
    """Photos for the permission table's samples, so the photo routes send a real file."""
    from pathlib import Path

    from portal.blueprints.checklist.models import ChecklistMark

    from portal.blueprints.ratings import services as rating_services

    give_photo("T1002")
    mark = db.session.get(ChecklistMark, values["mark_id"])
    mark.photo = _photo_file(Path(app.instance_path) / "checklist", f"{mark.sheet_id}-1-h.jpg")
    # T1002 on duty at the sample window, so the customer's page shows a photo
    rating_services.open_window(person("T1002"), db.session.get(Window, values["window_id"]),
                                utcnow())
    db.session.commit()


def _branches(response) -> tuple:
    """What tells a page from an htmx fragment: status, redirect target, a whole document."""
    return (response.status_code, response.headers.get("Location"),
            b"<html" in response.get_data()[:2000].lower())


def test_every_get_route_carries_the_security_headers(app):
    """Every GET route of app.url_map, as a role allowed to use it (the API with a token), as a
    page and as an htmx fragment; where the two differ the answer says Vary: HX-Request."""
    values = _sample_values()
    _photos_on_file(app, values)
    token, plain = create_token("headers")
    values.update(filename="portal.css", work_no="T1002")
    problems, unvaried, opened = [], [], set()
    clients = {role: _client(app, ROLE_ACCOUNTS[role]) for role in ROLE_ORDER}
    clients[None] = app.test_client()
    before = _snapshot()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        own = {name: values[name] for name in rule.arguments}
        own.update({name: value for (endpoint, name), value in OWN_OVERRIDES.items()
                    if endpoint == rule.endpoint})
        path = rule.build(own, append_unknown=False)[1] + QUERIES.get(rule.endpoint, "")
        access = ACCESS.get(rule.endpoint, PUBLIC)
        if access == TOKEN:
            tries = [(None, {"Authorization": f"Bearer {plain}"})]
        elif access == PUBLIC:
            tries = [(None, {})]
        else:
            tries = [(role, {}) for role in ROLE_ORDER if _allowed(rule.endpoint, role)]
        for role, headers in tries:
            answers = []
            for extra in VARIANTS:
                answers.append(clients[role].get(path, headers={**headers, **extra}))
            for response in answers:
                problems += [f"{path} as {role}: {p}" for p in
                             _header_problems(response, role is not None)]
            if _branches(answers[0]) != _branches(answers[1]) and not all(
                    "HX-Request" in response.vary for response in answers):
                unvaried.append(f"{path} as {role}")
            if answers[0].status_code < 400:
                opened.add(rule.endpoint)
                break
    assert not problems, problems
    assert not unvaried, f"answers that branch on HX-Request without Vary: {unvaried}"
    # RELIABILITY 9: GET never changes data (sessions' idle clocks live in the cookie)
    assert not _changed(before, _snapshot()), "a GET changed rows"
    # every route really answered (photos and downloads included), not only its error page
    every_get = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    unopened = every_get - opened
    assert not unopened, f"routes that answered no role below 400: {sorted(unopened)}"


def test_error_answers_carry_the_security_headers(app_factory):
    """404, 405, 413, 403, 401, 500, 503, the signed-out htmx redirect, CSRF failures (400) and
    429s, both anonymous and signed in, staff pages and the customers' pages."""
    from sqlalchemy.exc import OperationalError

    app = app_factory()

    @app.get("/boom")
    def boom():
        raise RuntimeError("internals")

    @app.get("/locked")
    def locked():
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    csrf_app = app_factory(WTF_CSRF_ENABLED=True)
    limited = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="1 per minute",
                          RATING_RATE_LIMIT="1 per minute", PUBLIC_RATE_LIMIT="1 per minute")
    with app.app_context():
        window = db.session.scalar(select(Window.token).where(Window.number == 1).limit(1))
    big = {"work_no": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)}
    cases = [  # (app, signed in as, method, path, data, headers, expected status)
        (app, None, "get", "/no-such-page", None, {}, 404),
        (app, "T1001", "get", "/no-such-page", None, {}, 404),
        (app, "T1001", "get", "/complaints/999999", None, {"HX-Request": "true"}, 404),
        (app, "T1001", "get", "/logout", None, {}, 405),
        (app, "T1001", "get", "/admin/people", None, {}, 403),
        (app, None, "get", "/api/v1/people/T1001", None, {}, 401),
        (app, None, "post", "/login", big, {}, 413),
        (app, "T1001", "post", "/account/password", big, {}, 413),
        (app, None, "get", "/ratings/alerts/badge", None, {"HX-Request": "true"}, 204),
        (app, None, "get", "/ratings/alerts/badge", None, {}, 302),
        (app, "T1001", "get", "/boom", None, {}, 500),
        (app, None, "get", "/boom", None, {}, 500),
        (app, "T1001", "get", "/locked", None, {}, 503),
        (csrf_app, "T1001", "post", "/logout", {}, {"HX-Request": "true"}, 400),
        (csrf_app, None, "post", "/login", {"work_no": "T1001"}, {}, 400),
        (csrf_app, None, "post", "/complaints/new", {}, {}, 400),
        (csrf_app, None, "post", f"/r/{window}", {}, {}, 400),
    ]
    for n in range(2):
        cases += [(limited, None, "post", "/login", {"work_no": f"N{n}"}, {}, (200, 429)[n]),
                  (limited, None, "post", f"/r/{window}", {}, {}, (400, 429)[n]),
                  (limited, None, "post", "/complaints/status", {}, {}, (400, 429)[n])]
    problems = []
    for which, work_no, method, path, data, headers, expected in cases:
        with which.app_context():
            client = which.test_client()
            if work_no:
                sign_in_as(client, work_no)
            response = getattr(client, method)(path, data=data, headers=headers)
        if response.status_code != expected:
            problems.append(f"{method} {path} -> {response.status_code}, expected {expected}")
        problems += [f"{method} {path}: {p}" for p in _header_problems(response, bool(work_no))]
        if path == "/ratings/alerts/badge" and "HX-Request" not in response.vary:
            problems.append(f"{path} {headers}: the sign-in redirect branches on HX-Request "
                            "without Vary")
    assert not problems, problems


# --- CSRF on every unsafe route (RELIABILITY 9) ------------------------------------------------

def test_every_unsafe_route_refuses_a_post_without_the_csrf_token(app_factory):
    """With CSRF on, every POST route of app.url_map, as a role allowed to use it, answers 400
    without the token (page and htmx) and nothing changes; no view or blueprint is exempt."""
    from portal.extensions import csrf

    app = app_factory(WTF_CSRF_ENABLED=True)
    assert not csrf._exempt_views and not csrf._exempt_blueprints
    with app.app_context():
        values = _sample_values()
        values["filename"] = "portal.css"
        clients = {role: _client(app, ROLE_ACCOUNTS[role]) for role in ROLE_ORDER}
        clients[None] = app.test_client()
        before, accepted = _snapshot(), []
        for rule in app.url_map.iter_rules():
            if not rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
                continue
            path = rule.build({name: values[name] for name in rule.arguments},
                              append_unknown=False)[1]
            access = ACCESS[rule.endpoint]
            role = None if access == PUBLIC else next(
                (r for r in ROLE_ORDER if _allowed(rule.endpoint, r)), None)
            for headers in VARIANTS:
                response = clients[role].post(path, data={"reason": "x", "note": "x"},
                                              headers=headers)
                if response.status_code != 400:
                    accepted.append(f"{path} as {role} {headers} -> {response.status_code}")
        assert not accepted, accepted
        assert not _changed(before, _snapshot())


# --- the append-only history (RELIABILITY 16) --------------------------------------------------

def _append_only_tables() -> list[str]:
    """The tables the migrations make append-only (make_append_only('name'))."""
    import re
    from pathlib import Path

    from portal import MIGRATIONS

    found = set()
    for path in Path(MIGRATIONS, "versions").glob("*.py"):
        found |= set(re.findall(r"make_append_only\(['\"](\w+)['\"]\)", path.read_text("utf-8")))
    return sorted(found)


def test_the_history_tables_refuse_update_and_delete(app):
    """Ratings and every history table (complaints, checklist, ledger, honours, audit) refuse
    UPDATE and DELETE in the database itself, whoever connects; score_event is proved in
    test_scores.py and rating_review (no row in this sample) by the same trigger code."""
    from sqlalchemy.exc import DatabaseError

    tables, tried, allowed = _append_only_tables(), [], []
    assert {"rating", "complaint_event", "ledger_event", "audit_event"} <= set(tables)
    _world(app)
    for table in tables:
        row = db.session.execute(text(f'SELECT id FROM "{table}" LIMIT 1')).scalar()  # nosec B608
        db.session.rollback()
        if row is None:
            continue
        tried.append(table)
        for statement in (f'UPDATE "{table}" SET id = id WHERE id = :id',  # nosec B608
                          f'DELETE FROM "{table}" WHERE id = :id'):  # nosec B608
            try:
                db.session.execute(text(statement), {"id": row})
                db.session.flush()
                allowed.append(statement)
            except DatabaseError as error:
                if "append-only" not in str(error):
                    allowed.append(f"{statement}: {error}")
            db.session.rollback()
    assert not allowed, allowed
    assert set(tables) - set(tried) <= {"score_event", "rating_review"}, tried
