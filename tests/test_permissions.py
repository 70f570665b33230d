"""The permission table: every route × every role, built from the app's URL map.

A route missing from ACCESS fails the test, so each new page must state who may use it.
"""
import pytest
from sqlalchemy import select

from portal.blueprints.api.services import create_token
from portal.blueprints.checklist import services as checklist_services
from portal.blueprints.complaints import services as complaint_services
from portal.blueprints.ledger import services as ledger_services
from portal.blueprints.ratings.models import Window
from portal.extensions import db
from portal.models import OrgUnit
from portal.proposals import PointsProposal
from portal.timeutil import local_today, utcnow

from .conftest import ROLE_ACCOUNTS, person, sign_in_as
from .ratings_helpers import make_rating

PUBLIC, STAFF, TOKEN = "public", "staff", "token"
ALL_ROLES = ("teller", "lobby", "manager", "office", "admin")

# endpoint -> who may use it: PUBLIC (anyone), STAFF (any signed-in person),
# TOKEN (API bearer token) or a tuple of roles.
ACCESS = {
    "auth.login": PUBLIC,
    "auth.set_language": PUBLIC,
    "auth.logout": STAFF,
    "auth.password": STAFF,
    "home.index": STAFF,
    "home.healthz": PUBLIC,
    "home.photo": STAFF,
    "home.index_xlsx": ("manager", "office"),
    "api.person": TOKEN,
    "api.person_ratings": TOKEN,
    "api.person_standing": TOKEN,
    "admin.units": ("admin",),
    "admin.unit_new": ("admin",),
    "admin.unit_edit": ("admin",),
    "admin.people": ("admin",),
    "admin.person_new": ("admin",),
    "admin.person_detail": ("admin",),
    "admin.person_edit": ("admin",),
    "admin.person_deactivate": ("admin",),
    "admin.person_activate": ("admin",),
    "admin.person_password": ("admin",),
    "admin.person_photo": ("admin",),
    "admin.tokens": ("admin",),
    "admin.token_create": ("admin",),
    "admin.token_revoke": ("admin",),
    "admin.audit": ("admin",),
    "ratings.rate": PUBLIC,
    "ratings.thanks": PUBLIC,
    "ratings.public_photo": PUBLIC,
    "ratings.window": ("teller", "lobby", "manager"),
    "ratings.window_open": ("teller", "lobby", "manager"),
    "ratings.window_close": ("teller", "lobby", "manager"),
    "ratings.window_invite": ("teller", "lobby", "manager"),
    "ratings.window_code": ("teller", "lobby", "manager"),
    "ratings.window_screen": ("teller", "lobby", "manager"),
    "ratings.qr_codes": ("manager", "office"),
    "ratings.window_token_replace": ("manager",),
    "ratings.mine": ("teller", "lobby", "manager"),
    "ratings.appeal": ("teller", "lobby", "manager"),
    "ratings.outlet": ("lobby", "manager", "office"),
    "ratings.outlet_xlsx": ("lobby", "manager", "office"),
    "ratings.alerts": ("lobby", "manager", "office"),
    "ratings.alerts_xlsx": ("lobby", "manager", "office"),
    "ratings.alert_badge": ("manager",),
    "ratings.rating_seen": ("manager",),
    "ratings.rating_decide": ("manager",),
    "ratings.appeals": ("lobby", "manager", "office"),
    "ratings.appeals_xlsx": ("lobby", "manager", "office"),
    "ratings.levels": ("lobby", "manager", "office"),
    "ratings.levels_xlsx": ("lobby", "manager", "office"),
    "ratings.level_confirm": ("manager",),
    "ratings.monthly_check": ("manager",),
    "ratings.proposals": ("lobby", "manager", "office"),
    "ratings.proposals_xlsx": ("lobby", "manager", "office"),
    "ratings.thresholds": ("office",),
    "complaints.new": PUBLIC,
    "complaints.thanks": PUBLIC,
    "complaints.status": PUBLIC,
    "complaints.desk": ("teller", "lobby", "manager", "office"),
    "complaints.index": ("teller", "lobby", "manager", "office"),
    "complaints.intake": ("lobby", "manager", "office"),
    "complaints.detail": ("teller", "lobby", "manager", "office"),
    "complaints.act": ("teller", "lobby", "manager", "office"),
    "complaints.from_rating": ("manager",),
    "complaints.measures": ("manager", "office"),
    "checklist.today": ("lobby", "manager"),
    "checklist.day": ("lobby", "manager", "office"),
    "checklist.item": ("lobby", "manager", "office"),
    "checklist.sign": ("lobby", "manager"),
    "checklist.reopen": ("office",),
    "checklist.photo": ("lobby", "manager", "office"),
    "checklist.problems": ("lobby", "manager", "office"),
    "checklist.rectify": ("lobby", "manager"),
    "checklist.template": ("office",),
    "checklist.template_version": ("office",),
    "checklist.history": ("lobby", "manager", "office"),
    "ledger.mine": ("teller", "lobby", "manager"),
    "ledger.person": ("teller", "lobby", "manager", "office"),
    "ledger.entry_confirm": ("manager", "office"),
    "ledger.entry_revoke": ("office",),
    "ledger.new": ("manager", "office"),
    "ledger.outlet": ("manager", "office"),
    "ledger.training": ("manager",),
    "ledger.proposals": ("manager", "office"),
    "ledger.proposal_confirm": ("manager", "office"),
    "ledger.proposal_dismiss": ("manager", "office"),
    "ledger.rules": STAFF,
    "ledger.rule_edit": ("office",),
    # honours (SPEC 6)
    "honours.index": STAFF,
    "honours.photo": STAFF,
    "honours.screen": PUBLIC,
    "honours.screen_photo": PUBLIC,
    "honours.nominate": ("manager",),
    "honours.nominations": ("manager", "office"),
    "honours.detail": ("manager", "office"),
    "honours.approve": ("office",),
    "honours.reject": ("office",),
    # end honours
    # scores (SPEC 7)
    "scores.index": ("manager", "office"),
    "scores.outlet": ("manager", "office"),
    "scores.record": ("office",),
    "scores.subbranches": ("office",),
    "scores.settings": ("office",),
    "api.outlet_score": TOKEN,
    # end scores
    # reports (SPEC 8)
    "reports.notice": ("manager", "office"),
    "reports.notice_xlsx": ("manager", "office"),
    # downloads added for "every table a manager sees can be downloaded as .xlsx" (SPEC 8)
    "ratings.mine_xlsx": ("teller", "lobby", "manager"),
    "ratings.window_xlsx": ("teller", "lobby", "manager"),
    "ratings.thresholds_xlsx": ("office",),
    "complaints.desk_xlsx": ("teller", "lobby", "manager", "office"),
    "checklist.day_xlsx": ("lobby", "manager", "office"),
    "checklist.problems_xlsx": ("lobby", "manager", "office"),
    "checklist.template_xlsx": ("office",),
    "checklist.template_version_xlsx": ("office",),
    # end reports
}
#: whose ledger each role opens (a lobby manager sees only their own; T1001 is the teller's)
OWN_LEDGER = {"lobby": "L0001"}


def _rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def _first_window() -> Window:
    outlet = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "ZJK-001"))
    return db.session.scalar(select(Window).where(Window.outlet_id == outlet, Window.number == 1))


def _sample_complaint() -> int:
    """A complaint of ZJK-001 recorded by the lobby manager and waiting for T1001 to accept."""
    complaint = complaint_services.create(complaint_services.NewComplaint(
        channel="walk_in", outlet=person("L0001").org_unit, category="waiting",
        description="等候时间过长", customer_phone="13800001234"), person("L0001"), utcnow())
    complaint_services.transfer(complaint, person("L0001"), person("T1001"), "请柜员说明", utcnow())
    db.session.commit()
    return complaint.id


def _sample_values():
    token, _ = create_token("matrix")
    return {
        "person_id": person("T1002").id,
        "unit_id": db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "ZJK-001")),
        "token_id": token.id,
        "work_no": "T1001",
        "token": _first_window().token,
        "window_id": _first_window().id,
        "rating_id": make_rating(person("T1002"), 1, local_today()).id,
        "complaint_id": _sample_complaint(),
        "action": "note",
        **_sample_sheet(),
        **_sample_ledger(),
        **_sample_honours(),
        **_sample_scores(),
    }


def _sample_honours() -> dict:
    """A nomination of T1002 (ZJK-001) for last month's star, approved, with a photo on file, so
    the board and the hall screen show T1002's photo; its id for the nomination routes."""
    from .honours_helpers import approved_star

    return {"honour_id": approved_star("T1002").id}


def _sample_scores() -> dict:
    """Sample values for the scores and reports routes' URL arguments: the outlet whose score
    page every allowed role may open (M0001 manages it; S0001's subtree holds it)."""
    return {"outlet_code": "ZJK-001"}


def _sample_ledger() -> dict:
    """A proposed entry and a proposal for T1002 of ZJK-001, and a rule code."""
    teller = person("T1002")
    entry = ledger_services.record(teller, "R04", local_today(), utcnow(), reason="样例")
    proposal = PointsProposal(person_id=teller.id, org_unit_id=teller.org_unit_id,
                              rule_code="R15", points=-1, money=100, reason="样例",
                              evidence_kind="rating_month", evidence_ref="2026-01")
    db.session.add(proposal)
    db.session.commit()
    return {"entry_id": entry.id, "proposal_id": proposal.id, "code": "R08"}


def _sample_sheet() -> dict:
    """Today's checklist of ZJK-001, opened by its lobby manager."""
    sheet = checklist_services.open_sheet(person("L0001").org_unit, local_today(),
                                          person("L0001"), utcnow())
    db.session.commit()
    return {"day": local_today().isoformat(), "number": 1, "mark_id": sheet.marks[0].id,
            "version": 1}


def test_every_route_is_in_the_permission_table(app):
    missing = sorted({rule.endpoint for rule in _rules(app)} - set(ACCESS))
    assert not missing, f"routes without an entry in ACCESS: {missing}"


def _call(client, rule, values):
    path = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
    if "GET" in rule.methods:
        return client.get(path)
    return client.post(path, data={})


@pytest.mark.parametrize("role", ("anonymous",) + ALL_ROLES)
def test_each_role_gets_exactly_the_routes_it_may_use(app, role):
    failures, values = [], _sample_values()
    values["work_no"] = OWN_LEDGER.get(role, values["work_no"])
    for rule in _rules(app):
        client = app.test_client()
        if role != "anonymous":
            sign_in_as(client, ROLE_ACCOUNTS[role])
        access = ACCESS[rule.endpoint]
        allowed = access == PUBLIC or (access == STAFF and role != "anonymous") or role in access
        if allowed and "GET" not in rule.methods:
            continue  # side effects of allowed writes are covered by each feature's tests
        response = _call(client, rule, values)
        code = response.status_code
        if access == TOKEN:
            ok = code == 401
        elif allowed:
            ok = code < 400 or (rule.endpoint in ("home.photo", "ratings.public_photo",
                                                  "checklist.photo") and code == 404)
        elif role == "anonymous":
            ok = code == 302 and "/login" in response.headers["Location"]
        else:
            ok = code == 403
        if not ok:
            failures.append(f"{rule.methods - {'HEAD', 'OPTIONS'}} {rule.rule} -> {code}")
    assert not failures, f"{role}: {failures}"
