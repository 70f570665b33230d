"""``GET /api/v1/outlets/<code>/score``: the quarterly score for the HR and performance systems."""
from datetime import timedelta

import pytest

from portal.blueprints.api.services import create_token
from portal.periods import quarter_of

from .scores_helpers import QUARTER, checks, complaint, middle_of
from .test_api import assert_json_error, assert_no_session_cookie, bearer

Q = QUARTER.label
PREVIOUS = quarter_of(QUARTER.start - timedelta(days=1))
KEYS = {"outlet", "quarter", "mystery", "offsite", "onsite", "complaint_deduction", "score"}


@pytest.fixture
def token(app):
    return create_token("绩效系统")[1]


def url(code="ZJK-001", quarter: str | None = Q) -> str:
    return f"/api/v1/outlets/{code}/score" + (f"?quarter={quarter}" if quarter is not None else "")


def test_the_score_is_answered_with_exactly_the_contract_s_keys(client, token):
    checks("ZJK-001", Q, "92.5", None, 80)  # 50/50: 86.25
    complaint("ZJK-001", middle_of(QUARTER))
    complaint("ZJK-001", middle_of(QUARTER), "partly", level="media")
    response = client.get(url(), headers=bearer(token))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == {"outlet": "ZJK-001", "quarter": Q, "mystery": 92.5,
                                   "offsite": None, "onsite": 80, "complaint_deduction": 7,
                                   "score": 79.25}
    raw = response.get_data(as_text=True)
    assert '"mystery":92.5' in raw.replace(" ", "") and '"offsite":null' in raw.replace(" ", "")
    assert_no_session_cookie(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_no_check_done_is_a_null_score_even_with_a_deduction(client, token):
    complaint("ZJK-002", middle_of(QUARTER), level="branch")
    body = client.get(url("ZJK-002"), headers=bearer(token)).get_json()
    assert set(body) == KEYS
    assert body["mystery"] is body["offsite"] is body["onsite"] is body["score"] is None
    assert body["complaint_deduction"] == 5


def test_all_three_checks_weigh_40_40_20(client, token):
    checks("ZJK-002", Q, 90, 80, 70)
    assert client.get(url("ZJK-002"), headers=bearer(token)).get_json()["score"] == 82


def test_the_code_is_case_insensitive(client, token):
    checks("ZJK-002", Q, 90)
    body = client.get(url("zjk-002", Q.lower()), headers=bearer(token)).get_json()
    assert (body["outlet"], body["quarter"], body["score"]) == ("ZJK-002", Q, 90)


def test_a_missing_quarter_is_the_current_one_as_a_missing_year_is_for_the_standing(client,
                                                                                     token):
    checks("ZJK-001", Q, 77)
    checks("ZJK-001", PREVIOUS.label, 55)
    body = client.get(url(quarter=None), headers=bearer(token)).get_json()
    assert (body["quarter"], body["score"]) == (Q, 77)
    earlier = client.get(url(quarter=PREVIOUS.label), headers=bearer(token)).get_json()
    assert (earlier["quarter"], earlier["score"]) == (PREVIOUS.label, 55)


@pytest.mark.parametrize("quarter", ["", "2026Q5", "2026Q0", "2026-10", "2026", "Q3",
                                     "1999Q4", "2101Q1", "２０２６Q1", "x" * 500])
def test_a_malformed_quarter_gets_400_json(client, token, quarter):
    assert_json_error(client.get(url(quarter=quarter), headers=bearer(token)), 400)


@pytest.mark.parametrize("code", ["ZJK-999", "ZJK-YYB", "ZJK", "HQ", "T1001", "x" * 300])
def test_an_unknown_outlet_or_a_code_that_is_no_outlet_gets_404_json(client, token, code):
    assert_json_error(client.get(url(code), headers=bearer(token)), 404)


def test_without_a_valid_token_the_answer_is_401_and_reveals_nothing(client, token):
    checks("ZJK-001", Q, 91)
    for headers in ({}, bearer("wyb_wrong"), {"Authorization": f"Basic {token}"}):
        response = client.get(url(), headers=headers)
        assert_json_error(response, 401)
        assert "91" not in response.get_data(as_text=True)


def test_a_signed_in_session_does_not_open_the_score(office):
    assert_json_error(office.get(url()), 401)
