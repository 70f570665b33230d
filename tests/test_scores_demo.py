"""The demo scores that ``seed-demo`` loads."""
from sqlalchemy import select

from portal.blueprints.scores import services
from portal.blueprints.scores.models import Inspection, ScoreEvent, SubbranchScore
from portal.extensions import db
from portal.models import OrgUnit
from portal.timeutil import local_today, utcnow

from .conftest import sign_in_as
from .test_cli import blank_app, blank_database, empty_app  # noqa: F401  (fixtures)


def test_the_demo_has_four_quarters_of_scores_some_checks_not_done(empty_app):
    from portal.demo import seed_demo

    today = local_today()
    seed_demo()
    quarters = [q.label for q in services.recent_quarters(today, 4)]
    codes = {unit.id: unit.code for unit in db.session.scalars(select(OrgUnit))}
    rows = db.session.scalars(select(Inspection)).all()
    assert {(codes[r.outlet_id], r.quarter) for r in rows} == {
        (code, quarter) for code in ("ZJK-001", "ZJK-002") for quarter in quarters}
    values = [v for r in rows for v in (r.mystery, r.offsite, r.onsite)]
    assert None in values and sum(v is not None for v in values) >= 12
    assert all(0 <= v <= 100 for v in values if v is not None)
    assert all(r.changed_at <= utcnow() and r.changed_by_id for r in rows)
    managed = db.session.scalars(select(SubbranchScore)).all()
    assert {codes[r.subbranch_id] for r in managed} == {"ZJK-YYB"}
    assert any(r.management is not None and (r.innovation or r.award) for r in managed)
    assert db.session.scalars(select(ScoreEvent)).all()  # recorded with their history
    # every demo quarter ranks both outlets with a score, and the sub-branch has one too
    outlets = services.units_in(db.session.scalar(select(OrgUnit).where(OrgUnit.code == "ZJK")),
                                "outlet")
    for label in quarters:
        period = services.quarter_from(label, today)
        results = services.outlet_results(outlets, period)
        assert all(r.score is not None for r in results), label


def test_the_demo_ranking_page_answers_for_the_office_and_the_manager(empty_app):
    from portal.demo import seed_demo

    seed_demo()
    office = sign_in_as(empty_app.test_client(), "S0001")
    body = office.get("/scores/").get_data(as_text=True)
    assert 'id="outlet-ZJK-001"' in body and 'id="subbranch-ZJK-YYB"' in body
    manager = sign_in_as(empty_app.test_client(), "M0002")
    response = manager.get("/scores/outlets/ZJK-002")
    assert response.status_code == 200 and "桥东网点" in response.get_data(as_text=True)
