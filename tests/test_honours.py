"""The honours pages (SPEC 6): nominating with candidates, the office's approval creating the
linked award entry (once), rejection, the board and its archive, the public hall screen, the
photos, the 5-per-sub-branch cap, conflicts, CSRF and bounded queries."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.blueprints.honours import services
from portal.blueprints.honours.models import Honour
from portal.blueprints.ledger import services as ledger
from portal.blueprints.ledger.models import LedgerEntry
from portal.blueprints.ratings.models import StarLevel
from portal.errors import DomainError
from portal.extensions import db
from portal.models import AuditEvent
from portal.periods import month_of
from portal.proposals import PointsProposal
from portal.timeutil import local_today, utcnow

from .conftest import person, sign_in_as
from .honours_helpers import approved_star, give_photo, last_month, nominated
from .ratings_helpers import make_rating

CITATION = "主动为行动不便的老人上门办理业务,客户送来感谢信。"


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _entries(honour: Honour) -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.evidence_kind == "honour", LedgerEntry.evidence_ref == str(honour.id))))


def _approve(client, honour, **data):
    return client.post(f"/honours/nominations/{honour.id}/approve",
                       data={f"approve-{honour.id}-version": str(honour.version),
                             **{f"approve-{honour.id}-{k}": v for k, v in data.items()}})


def _reject(client, honour, note):
    return client.post(f"/honours/nominations/{honour.id}/reject",
                       data={f"reject-{honour.id}-version": str(honour.version),
                             f"reject-{honour.id}-note": note})


# --- nominating -----------------------------------------------------------------------------

def test_the_manager_sees_candidates_ranked_and_without_an_upheld_complaint(app, manager):
    month = month_of(local_today().replace(day=1) - timedelta(days=1))
    day = month.start + timedelta(days=3)
    for stars in (5, 5, 4):
        make_rating(person("T1003"), stars, day)
    for stars in (5, 5):
        make_rating(person("T1002"), stars, day)
    db.session.commit()
    page = manager.get(f"/honours/nominate?month={month.label}")
    assert page.status_code == 200
    table = page.text.split('id="monthly-candidates"')[1].split("</table>")[0]
    assert table.index("T1002") < table.index("T1003") < table.index("T1001")  # 5.0, 4.67, none
    assert "T2001" not in page.text  # another outlet's teller
    assert "年度文优服务标兵候选" in page.text


def test_a_teller_with_an_upheld_complaint_in_the_month_is_no_candidate(app, manager):
    from portal.blueprints.complaints import services as complaints

    month = month_of(local_today())
    make_rating(person("T1002"), 5, local_today())
    case = complaints.create(complaints.NewComplaint(
        channel="walk_in", outlet=person("T1002").org_unit, category="attitude",
        description="态度差", customer_phone="13800001234"), person("L0001"), utcnow())
    complaints.respond(case, person("L0001"), "已联系客户", utcnow())
    complaints.decide(case, person("M0001"), "upheld", [person("T1002")], "属实", utcnow())
    db.session.commit()
    table = manager.get(f"/honours/nominate?month={month.label}").text.split(
        'id="monthly-candidates"')[1].split("</table>")[0]
    assert "T1002" not in table and "T1001" in table


def test_a_bad_candidate_month_is_named_not_an_error(app, manager):
    page = manager.get("/honours/nominate?month=2026-13&year=abcd")
    assert page.status_code == 200
    assert "请按 YYYY-MM 填写月份" in page.text and "请按 YYYY 填写年份" in page.text


def test_the_manager_nominates_a_teller_and_it_waits_for_the_office(app, manager):
    response = manager.post("/honours/nominate", data={
        "person": "T1001", "title": "monthly_star", "period": last_month(), "citation": CITATION})
    assert response.status_code == 303 and response.location.endswith("/honours/nominations")
    honour = db.session.scalar(select(Honour))
    assert (honour.person.work_no, honour.title, honour.period, honour.status) == (
        "T1001", "monthly_star", last_month(), "proposed")
    assert honour.citation == CITATION and honour.nominated_by_id == person("M0001").id
    assert [e.action for e in services.history(honour)] == ["nominate"]
    assert _count(AuditEvent, AuditEvent.action == "honour.nominated") == 1
    listing = manager.get("/honours/nominations")
    assert "T1001" in listing.text and "待审批" in listing.text
    assert _entries(honour) == []  # nothing in the ledger before the approval


@pytest.mark.parametrize("data, field, message", [
    ({"citation": ""}, "citation", "请填写事迹"),
    ({"citation": "好" * 501}, "citation", "不能超过 500 字"),
    ({"period": "2026/10"}, "period", "请按 YYYY-MM 填写期间"),
    ({"period": "2999-01"}, "period", "尚未开始"),
    ({"title": "grievance", "period": "2026-10"}, "period", "请按 YYYY-MM-DD 填写期间"),
    ({"title": "yearly_model", "period": "2026-10"}, "period", "请按 YYYY 填写期间"),
    ({"title": "quarterly_five_star"}, "title", "请从列表中选择"),
    ({"person": "T2001"}, "person", "请从列表中选择"),  # another outlet's teller
    ({"person": "M0001"}, "person", "请从列表中选择"),  # the manager him/herself
])
def test_a_bad_nomination_is_refused_next_to_its_field_and_nothing_is_saved(
        app, manager, data, field, message):
    form = {"person": "T1001", "title": "monthly_star", "period": last_month(),
            "citation": CITATION, **data}
    response = manager.post("/honours/nominate", data=form)
    assert response.status_code == 422
    error = response.text.split(f'id="{field}-error"')[1].split("</p>")[0]
    assert message in error
    assert _count(Honour) == 0
    if data.get("citation"):
        assert data["citation"][:20] in response.text  # what was typed is kept


def test_one_nomination_per_person_title_and_period(app, manager):
    nominated("T1001")
    response = manager.post("/honours/nominate", data={
        "person": "T1001", "title": "monthly_star", "period": last_month(), "citation": CITATION})
    assert response.status_code == 422 and "已被推荐过" in response.text
    assert _count(Honour) == 1


def test_the_sixth_yearly_model_of_the_sub_branch_is_refused(app, manager):
    year = str(local_today().year)
    for work_no in ("T1001", "T1002", "T2001", "T2002"):
        nominated(work_no, "yearly_model", year)
    fifth = manager.post("/honours/nominate", data={
        "person": "T1003", "title": "yearly_model", "period": year, "citation": CITATION})
    assert fifth.status_code == 303
    sixth = manager.post("/honours/nominate", data={
        "person": "T1004", "title": "yearly_model", "period": year, "citation": CITATION})
    assert sixth.status_code == 422 and "已满 5 名" in sixth.text
    assert _count(Honour, Honour.title == "yearly_model") == 5


def test_a_rejected_yearly_nomination_frees_its_place(app, office):
    year = str(local_today().year)
    honours = [nominated(no, "yearly_model", year)
               for no in ("T1001", "T1002", "T1003", "T2001", "T2002")]
    with pytest.raises(DomainError):
        services.nominate(person("M0002"), person("T2003"), "yearly_model", year, CITATION,
                          utcnow())
    db.session.rollback()
    assert _reject(office, honours[0], "名额调整").status_code == 303
    services.nominate(person("M0002"), person("T2003"), "yearly_model", year, CITATION, utcnow())


# --- approving and rejecting ----------------------------------------------------------------

def test_approval_creates_one_confirmed_a01_entry_in_the_period_and_links_it(app, office):
    honour = nominated("T1001")
    before = ledger.balance(person("T1001"), date.fromisoformat(last_month() + "-01").year)
    response = _approve(office, honour, note="同意")
    assert response.status_code == 303
    db.session.refresh(honour)
    (entry,) = _entries(honour)
    assert honour.status == "approved" and honour.ledger_entry_id == entry.id
    assert (entry.rule_code, entry.status, entry.points, entry.money) == (
        "A01", "confirmed", Decimal("1.0"), Decimal("100.00"))
    assert entry.day.strftime("%Y-%m") == last_month() and entry.person.work_no == "T1001"
    assert "月度服务明星" in entry.reason
    assert ledger.balance(person("T1001"), entry.day.year) == before + 1
    assert [e.action for e in services.history(honour)] == ["nominate", "approve"]
    assert _count(AuditEvent, AuditEvent.action == "honour.approved") == 1


def test_a_second_approval_is_refused_and_adds_nothing(app, office):
    honour = nominated("T1001")
    seen = honour.version
    assert _approve(office, honour).status_code == 303
    again = office.post(f"/honours/nominations/{honour.id}/approve",
                        data={f"approve-{honour.id}-version": str(seen)})
    assert again.status_code == 409
    db.session.refresh(honour)
    again = _approve(office, honour)  # even with the newest version
    assert again.status_code == 409
    assert len(_entries(honour)) == 1 and _count(LedgerEntry) == 1
    with pytest.raises(DomainError):
        services.approve(honour, person("S0001"), utcnow())


def test_a_stale_page_cannot_reject_an_approved_nomination(app, office):
    honour = nominated("T1001")
    seen = honour.version
    _approve(office, honour)
    response = office.post(f"/honours/nominations/{honour.id}/reject",
                           data={f"reject-{honour.id}-version": str(seen),
                                 f"reject-{honour.id}-note": "不同意"})
    assert response.status_code == 409
    db.session.refresh(honour)
    assert honour.status == "approved"


def test_rejection_needs_a_note_and_creates_no_entry(app, office):
    honour = nominated("T1001")
    refused = _reject(office, honour, "")
    assert refused.status_code == 422 and "请填写不予批准的理由" in refused.text
    db.session.refresh(honour)
    assert honour.status == "proposed"
    assert _reject(office, honour, "事迹不够具体").status_code == 303
    db.session.refresh(honour)
    assert (honour.status, honour.decision_note, honour.ledger_entry_id) == (
        "rejected", "事迹不够具体", None)
    assert _count(LedgerEntry) == 0


def test_titles_without_a_rule_are_approved_without_an_entry(app, office):
    honour = nominated("T1002", "post_expert")
    assert _approve(office, honour).status_code == 303
    db.session.refresh(honour)
    assert honour.status == "approved" and honour.ledger_entry_id is None
    assert _count(LedgerEntry) == 0


def test_the_office_chooses_the_grievance_award_within_a06s_range(app, office):
    day = (local_today() - timedelta(days=3)).isoformat()
    honour = nominated("T1002", "grievance", day)
    refused = _approve(office, honour, points="5", money="100")
    assert refused.status_code == 422
    assert "A06 的分值应在 1 到 3 之间" in refused.text.split(f'id="approve-{honour.id}-points-error"')[1]
    db.session.refresh(honour)
    assert honour.status == "proposed" and _count(LedgerEntry) == 0
    assert _approve(office, honour, points="2", money="150").status_code == 303
    db.session.refresh(honour)
    (entry,) = _entries(honour)
    assert (entry.rule_code, entry.points, entry.money, entry.day.isoformat()) == (
        "A06", Decimal("2.0"), Decimal("150.00"), day)
    assert (honour.points, honour.money) == (Decimal("2.0"), Decimal("150.00"))


def test_the_grievance_award_defaults_to_the_rules_amount(app, office):
    honour = nominated("T1002", "grievance", local_today().isoformat())
    assert _approve(office, honour).status_code == 303
    (entry,) = _entries(honour)
    assert (entry.points, entry.money) == (Decimal("1.0"), Decimal("50.00"))


def _a06_proposal(work_no: str, ref: str = "TS20260101-0001") -> PointsProposal:
    teller = person(work_no)
    proposal = PointsProposal(person_id=teller.id, org_unit_id=teller.org_unit_id,
                              rule_code="A06", points=1, money=50, reason="投诉不属实,员工耐心",
                              evidence_kind="complaint", evidence_ref=ref, created_at=utcnow())
    db.session.add(proposal)
    db.session.commit()
    return proposal


def test_approving_a_grievance_honour_settles_the_complaints_a06_proposal(app, office):
    proposal = _a06_proposal("T1002")
    honour = nominated("T1002", "grievance", local_today().isoformat())
    assert honour.proposal_id == proposal.id
    assert _approve(office, honour, points="3", money="300").status_code == 303
    db.session.refresh(proposal)
    assert proposal.status == "confirmed" and "光荣榜" in proposal.decision_note
    assert _count(LedgerEntry, LedgerEntry.rule_code == "A06") == 1  # one award, not two
    with pytest.raises(DomainError):  # the ledger page can no longer confirm it again
        ledger.confirm_proposal(proposal, person("M0001"), utcnow())


def test_a_proposal_confirmed_in_the_ledger_first_is_the_honours_entry(app, office):
    proposal = _a06_proposal("T1002")
    honour = nominated("T1002", "grievance", local_today().isoformat())
    first = ledger.confirm_proposal(proposal, person("M0001"), utcnow())
    db.session.commit()
    assert _approve(office, honour).status_code == 303
    db.session.refresh(honour)
    assert honour.ledger_entry_id == first.id
    assert _count(LedgerEntry, LedgerEntry.rule_code == "A06") == 1


def test_the_manager_sees_only_the_own_outlets_nominations(app, manager, office):
    own, other = nominated("T1001"), nominated("T2001")
    listing = manager.get("/honours/nominations").text
    assert f"nomination-{own.id}" in listing and f"nomination-{other.id}" not in listing
    assert manager.get(f"/honours/nominations/{other.id}").status_code == 404
    assert manager.get(f"/honours/nominations/{own.id}").status_code == 200
    queue = office.get("/honours/nominations").text
    assert f"nomination-{own.id}" in queue and f"nomination-{other.id}" in queue
    assert office.get("/honours/nominations/999999").status_code == 404
    assert office.post("/honours/nominations/999999/approve").status_code == 404


def test_wrong_roles_are_refused(app, manager, teller, office):
    honour = nominated("T1001")
    assert teller.get("/honours/nominate").status_code == 403
    assert office.get("/honours/nominate").status_code == 403
    assert teller.get("/honours/nominations").status_code == 403
    assert _approve(manager, honour).status_code == 403
    assert _reject(manager, honour, "不同意").status_code == 403
    db.session.refresh(honour)
    assert honour.status == "proposed"


def test_the_nominations_download_as_xlsx(app, manager, office):
    nominated("T1001")
    for client in (manager, office):
        response = client.get("/honours/nominations?format=xlsx&status=all")
        assert response.status_code == 200 and response.mimetype.endswith("sheet")


def test_approval_needs_the_csrf_token_when_csrf_is_on(app_factory):
    secured = app_factory(WTF_CSRF_ENABLED=True)
    with secured.app_context():
        honour = nominated("T1001")
        client = sign_in_as(secured.test_client(), "S0001")
        response = client.post(f"/honours/nominations/{honour.id}/approve",
                               data={f"approve-{honour.id}-version": str(honour.version)})
        assert response.status_code == 400
        db.session.refresh(honour)
        assert honour.status == "proposed" and _count(LedgerEntry) == 0


# --- the board, the archive, the screen, the photos --------------------------------------------

def test_every_staff_member_sees_the_sub_branch_board(app, teller, manager, office):
    shown = approved_star("T2001")
    nominated("T1002")  # waiting: not on the board
    for client in (teller, manager, office):
        page = client.get("/honours/")
        assert page.status_code == 200
        assert "T2001" in page.text and CITATION not in page.text
        assert "T1002" not in page.text
    assert shown.citation in teller.get("/honours/").text
    photo = teller.get(f"/honours/people/{person('T2001').id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert teller.get(f"/honours/people/{person('T2002').id}/photo").status_code == 404


def test_the_archive_of_a_month_and_a_year(app, teller):
    approved_star("T1001", with_photo=False)
    month = last_month()
    assert "T1001" in teller.get(f"/honours/?period={month}").text
    assert "T1001" in teller.get(f"/honours/?period={month[:4]}").text
    assert "T1001" not in teller.get("/honours/?period=2001-01").text
    for bad in ("2026-13", "abc", "2026-10-01", "%00"):
        response = teller.get(f"/honours/?period={bad}")
        assert response.status_code == 400 and "期间格式有误" in response.text
    xlsx = teller.get(f"/honours/?period={month}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("sheet")


def test_the_quarterly_five_star_comes_from_confirmed_levels(app, teller):
    from portal.periods import quarter_of

    last_quarter = quarter_of(quarter_of(local_today()).start - timedelta(days=1))
    db.session.add_all([
        StarLevel(person_id=person("T1003").id, quarter=last_quarter.label, proposed=5,
                  confirmed=5),
        StarLevel(person_id=person("T1004").id, quarter=last_quarter.label, proposed=5,
                  confirmed=4),
        StarLevel(person_id=person("T1005").id, quarter=last_quarter.label, proposed=5,
                  confirmed=None)])
    db.session.commit()
    page = teller.get("/honours/").text
    assert "季度五星柜员" in page and "T1003" in page
    assert "T1004" not in page and "T1005" not in page
    items = services.month_honours(person("T1003").org_unit, month_of(last_quarter.end))
    assert [(i.title, i.work_no, i.period) for i in items] == [
        ("季度五星柜员", "T1003", last_quarter.label)]


def test_month_honours_gives_the_outlets_approved_titles_of_the_month(app, count_queries):
    star = approved_star("T1001", with_photo=False)
    approved_star("T2001", with_photo=False)  # another outlet
    nominated("T1002", "post_expert")  # waiting
    day = date.fromisoformat(last_month() + "-05")
    grievance = nominated("T1003", "grievance", day.isoformat())
    services.approve(grievance, person("S0001"), utcnow())
    db.session.commit()
    outlet = person("T1001").org_unit
    with count_queries() as statements:
        items = services.month_honours(outlet, month_of(day))
    assert len(statements) <= 3
    assert [(i.title, i.work_no, i.period) for i in items] == [
        ("月度服务明星", "T1001", last_month()), ("委屈奖", "T1003", day.isoformat())]
    first = items[0]
    assert (first.name, first.outlet, first.citation, first.person_id) == (
        person("T1001").name, outlet.name, star.citation, person("T1001").id)


def test_the_screen_works_signed_out_and_shows_only_approved_titles(app, client):
    approved_star("T1001")
    waiting = nominated("T1002", citation="尚未审批的推荐事迹")
    rejected = nominated("T1003", citation="被退回的推荐事迹")
    services.reject(rejected, person("S0001"), "内部意见:不予批准", utcnow())
    db.session.commit()
    page = client.get("/honours/screen?outlet=ZJK-001")
    assert page.status_code == 200
    assert person("T1001").name in page.text and "http-equiv=\"refresh\"" in page.text
    for hidden in ("尚未审批的推荐事迹", "被退回的推荐事迹", "内部意见", person("T1002").name):
        assert hidden not in page.text
    assert client.get("/honours/screen?outlet=ZJK-002").text.count("honour-card") == 0
    assert person("T1001").name in client.get("/honours/screen").text  # the whole bank
    assert client.get("/honours/screen?outlet=NOPE-9").status_code == 404
    assert client.get("/honours/screen?outlet=ZJK").status_code == 404  # not an outlet
    assert waiting.status == "proposed"


def test_only_photos_of_people_on_a_screen_are_public(app, client):
    approved_star("T1001")
    give_photo("T1002")
    nominated("T1002")
    assert client.get(f"/honours/screen/people/{person('T1001').id}/photo").status_code == 200
    assert client.get(f"/honours/screen/people/{person('T1002').id}/photo").status_code == 404
    assert client.get("/honours/screen/people/999999/photo").status_code == 404
    assert client.get(f"/people/{person('T1001').id}/photo").status_code == 302  # staff route


def test_the_home_panel_counts_the_nominations_waiting(app, manager, office):
    nominated("T1001")
    nominated("T2001")
    assert "待审批的荣誉推荐" in manager.get("/").text
    assert "2 条" in office.get("/").text.split("honours-panel-title")[2]
    assert "1 条" in manager.get("/").text.split("honours-panel-title")[2]


def _pages(client, urls, count_queries) -> dict[str, int]:
    found = {}
    for url in urls:
        with count_queries() as statements:
            assert client.get(url).status_code == 200, url
        found[url] = len(statements)
    return found


def test_the_pages_take_the_same_queries_whatever_the_data(app, manager, office, teller,
                                                           client, count_queries):
    approved_star("T1001")
    nominated("T1002")
    staff = ("/honours/", f"/honours/?period={last_month()}", "/honours/nominations?status=all",
             "/honours/nominate")
    public = ("/honours/screen?outlet=ZJK-001", "/honours/screen")
    few = {"manager": _pages(manager, staff, count_queries),
           "office": _pages(office, staff[:3], count_queries),
           "public": _pages(client, public, count_queries)}
    for work_no in ("T1003", "T1004", "T1005", "L0001"):
        approved_star(work_no)
    for work_no in ("T1006", "T1002"):
        nominated(work_no, "post_expert")
    for work_no in ("T2001", "T2002"):
        approved_star(work_no)
    assert _pages(manager, staff, count_queries) == few["manager"]
    assert _pages(office, staff[:3], count_queries) == few["office"]
    assert _pages(client, public, count_queries) == few["public"]


def test_a_concurrent_decision_caught_at_flush_is_a_conflict_and_keeps_nothing(app):
    from portal.errors import Conflict

    honour = nominated("T1001")
    db.session.execute(Honour.__table__.update().where(Honour.__table__.c.id == honour.id)
                       .values(version=Honour.__table__.c.version + 1))  # another worker
    with pytest.raises(Conflict):
        with services.guarded():
            services.approve(honour, person("S0001"), utcnow())
            db.session.commit()
    assert _count(LedgerEntry) == 0
    assert db.session.get(Honour, honour.id).status == "proposed"
