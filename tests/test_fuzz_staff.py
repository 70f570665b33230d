"""Fuzzing the staff forms that take free text (issue 7), signed in: complaint intake, a ledger
entry, an honour nomination, the inspection scores table and the teller's window choice.

Forged ids (a person, window or unit of another outlet), hostile text and bodies a browser
never sends get a 4xx or the form again (400/422), never a 500; a refused form writes nothing.
"""
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.blueprints.ratings.models import Window
from portal.extensions import db
from portal.models import unit_by_code
from portal.periods import quarter_of
from portal.timeutil import local_today

from .fuzz_helpers import FUZZ, bodies, changed, mutated, nasty, send, table_counts

STAFF = settings(FUZZ, max_examples=25)
TODAY = local_today()
LAST_MONTH = (TODAY.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def check(response, before, ok: set[int], table: str):
    """``response`` is one of ``ok`` (a 303 stored a row of ``table``) and a refusal wrote
    nothing."""
    after = table_counts()
    assert response.status_code in ok, response.status_code
    if response.status_code in (200, 303):
        assert after[table] >= before[table]
    else:
        assert changed(before, after) == {}


@STAFF
@given(fields=mutated({
    "channel": ("walk_in", "phone", "media"), "outlet": ("ZJK-001", "ZJK-002"),
    "subject": ("", "T1001", "T2001", "S0001"), "level": ("outlet", "branch"),
    "category": ("attitude", "fees"), "description": ("客户反映等候时间过长。",),
    "customer_name": ("", "李女士"), "customer_phone": ("13800001234",),
    "anonymous": ("", "y"), "window_number": ("", "3"),
}), body=bodies, data=st.data())
def test_complaint_intake_refuses_bad_input_cleanly(office, fields, body, data):
    before = table_counts()
    response = send(office, "/complaints/intake", fields, body, data)
    check(response, before, {303, 400}, "complaint")


@STAFF
@given(fields=mutated({
    "person": ("T1001", "T1002", "T2001", "M0001"), "rule": ("R04", "R05", "A01", "M01", "MGR"),
    "day": (str(TODAY), str(TODAY - timedelta(days=1)), "2026-02-30"),
    "points": ("", "-1", "-1.5"), "money": ("", "100"), "responsibility": ("", "y"),
    "reason": ("使用服务禁语",), "evidence": ("", "检查记录 2026-01"),
}), body=bodies, data=st.data())
def test_a_ledger_entry_refuses_bad_input_cleanly(manager, fields, body, data):
    before = table_counts()
    response = send(manager, "/ledger/new", fields, body, data)
    check(response, before, {303, 400}, "ledger_entry")


@STAFF
@given(fields=mutated({
    "person": ("T1001", "T1003", "T2001", "M0001"),
    "title": ("monthly_star", "post_expert", "grievance", "yearly_model", "quarterly_star"),
    "period": (LAST_MONTH, str(TODAY.year), str(TODAY - timedelta(days=2))),
    "citation": ("耐心为老年客户办理业务,获客户书面表扬。",),
}), body=bodies, data=st.data())
def test_an_honour_nomination_refuses_bad_input_cleanly(manager, fields, body, data):
    before = table_counts()
    response = send(manager, "/honours/nominate", fields, body, data)
    check(response, before, {303, 422}, "honour")


@STAFF
@given(scores=st.lists(st.one_of(st.sampled_from(("", "90", "85.5", "100")), nasty),
                       min_size=6, max_size=6),
       versions=st.lists(st.one_of(st.sampled_from(("0", "0", "1")), nasty), min_size=2,
                         max_size=2),
       quarter=st.one_of(st.sampled_from((quarter_of(TODAY).label, "")), nasty),
       body=bodies, data=st.data())
def test_the_inspection_scores_table_refuses_bad_input_cleanly(office, scores, versions, quarter,
                                                               body, data):
    units = [unit_by_code("ZJK-001"), unit_by_code("ZJK-002")]
    fields = {}
    for index, unit in enumerate(units):
        for offset, name in enumerate(("mystery", "offsite", "onsite")):
            fields[f"u{unit.id}-{name}"] = scores[index * 3 + offset]
        fields[f"u{unit.id}-version"] = versions[index]
    before = table_counts()
    response = send(office, f"/scores/record?quarter={quarter}", fields, body, data)
    check(response, before, {303, 400, 409, 422}, "score_inspection")


@STAFF
@given(window=st.one_of(st.sampled_from(("own", "other outlet", "missing id")), nasty),
       body=bodies, data=st.data())
def test_the_teller_window_choice_refuses_forged_ids(teller, window, body, data):
    own = db.session.scalar(db.select(Window.id).where(
        Window.outlet_id == unit_by_code("ZJK-001").id).limit(1))
    other = db.session.scalar(db.select(Window.id).where(
        Window.outlet_id == unit_by_code("ZJK-002").id).limit(1))
    value = {"own": str(own), "other outlet": str(other), "missing id": "999999"}.get(window,
                                                                                        window)
    before = table_counts()
    response = send(teller, "/ratings/window/open", {"window": value}, body, data)
    check(response, before, {200, 303, 400, 409}, "duty_session")
    if window in ("other outlet", "missing id"):
        assert response.status_code == 400
