"""Ratings and transactions imports, the monthly check command, the ratings API and demo history."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.blueprints.api.services import create_token
from portal.blueprints.ratings.models import DailyTransactions, DutySession, Rating, RatingDay, StarLevel
from portal.extensions import db
from portal.proposals import PointsProposal
from portal.timeutil import local_today

from .conftest import person
from .ratings_helpers import evaluator_on, make_ratings, set_transactions
from .test_cli import blank_app, blank_database, empty_app  # noqa: F401  (fixtures)

TODAY = local_today()
DAY = TODAY - timedelta(days=3)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run(runner, command: str, path):
    return runner.invoke(args=[command, str(path)])


# --- import-ratings ------------------------------------------------------------------------

def test_device_ratings_are_imported_and_counted(runner, tmp_path):
    path = write(tmp_path, "r.csv", "rated_at,work_no,stars,channel\n"
                 f"{DAY} 09:30:00,T1001,5,device\n{DAY} 10:00:00,t1001,3,qr\n"
                 f"{DAY} 23:59:59,T2001,4,device\n")
    result = run(runner, "import-ratings", path)
    assert result.exit_code == 0, result.output
    teller = person("T1001")
    rows = db.session.scalars(select(Rating).where(Rating.person_id == teller.id)).all()
    assert sorted(r.stars for r in rows) == [3, 5] and {r.channel for r in rows} == {"device", "qr"}
    assert all(r.local_date == DAY and r.outlet_id == teller.org_unit_id for r in rows)
    day = db.session.scalar(select(RatingDay).where(RatingDay.person_id == teller.id))
    assert (day.ratings, day.stars, day.satisfied) == (2, 8, 1)


@pytest.mark.parametrize("line", [
    f" {DAY} 09:30:00 , T1001 ,5, device",
    f"{DAY} 09:30:00,T1001\u3000,5,device",
    f'"{DAY} 09:30:00","T1001 ","5","device"',
])
def test_spaces_around_values_are_trimmed(runner, tmp_path, line):
    path = write(tmp_path, "r.csv", f"rated_at,work_no,stars,channel\r\n{line}\r\n")
    result = run(runner, "import-ratings", path)
    assert result.exit_code == 0, result.output
    rating = db.session.scalar(select(Rating))
    assert (rating.person_id, rating.stars, rating.channel) == (person("T1001").id, 5, "device")
    assert rating.local_date == DAY


def test_rated_at_is_local_time_and_stored_as_utc(runner, tmp_path):
    path = write(tmp_path, "r.csv", f"rated_at,work_no,stars,channel\n{DAY} 07:30:00,T1001,5,device\n")
    assert run(runner, "import-ratings", path).exit_code == 0
    rating = db.session.scalar(select(Rating))
    assert rating.local_date == DAY
    assert rating.rated_at.date() == DAY - timedelta(days=1) and rating.rated_at.hour == 23


@pytest.mark.parametrize("row, reason", [
    (f"{DAY} 9:30:00,T1001,5,device", "rated_at"),
    (f"{DAY}T09:30:00,T1001,5,device", "rated_at"),
    (f"{DAY} 09:30,T1001,5,device", "rated_at"),
    (f"{TODAY + timedelta(days=2)} 09:30:00,T1001,5,device", "future"),
    ("0001-01-01 00:00:00,T1001,5,device", "rated_at"),
    (f"{DAY} 09:30:00,T9999,5,device", "work_no"),
    (f"{DAY} 09:30:00,S0001,5,device", "work_no"),
    (f"{DAY} 09:30:00,T1001,0,device", "stars"),
    (f"{DAY} 09:30:00,T1001,6,device", "stars"),
    (f"{DAY} 09:30:00,T1001,4.5,device", "stars"),
    (f"{DAY} 09:30:00,T1001,５,device", "stars"),
    (f"{DAY} 09:30:00,T1001,5,phone", "channel"),
])
def test_a_bad_rating_row_imports_nothing(runner, tmp_path, row, reason):
    path = write(tmp_path, "r.csv", "rated_at,work_no,stars,channel\n"
                 f"{DAY} 09:00:00,T1002,5,device\n{row}\n")
    result = run(runner, "import-ratings", path)
    assert result.exit_code == 1
    assert "line 3:" in result.stderr and reason in result.stderr
    assert count(Rating) == 0 and count(RatingDay) == 0


def test_the_same_ratings_file_is_refused_the_second_time(runner, tmp_path):
    path = write(tmp_path, "r.csv", f"rated_at,work_no,stars,channel\n{DAY} 09:00:00,T1002,5,device\n")
    assert run(runner, "import-ratings", path).exit_code == 0
    again = run(runner, "import-ratings", path)
    assert again.exit_code == 1 and "already imported" in again.stderr
    assert count(Rating) == 1


def test_an_imported_rating_marks_its_day_as_evaluator_on(app, runner, tmp_path):
    from portal.blueprints.ratings.services import measures_for
    from portal.periods import month

    teller = person("T1003")
    set_transactions(teller, date(2026, 10, 14), 10)
    set_transactions(teller, date(2026, 10, 15), 10)
    path = write(tmp_path, "r.csv", "rated_at,work_no,stars,channel\n2026-10-15 09:00:00,T1003,5,device\n")
    assert run(runner, "import-ratings", path).exit_code == 0
    measures = measures_for([teller.id], month(2026, 10))[teller.id]
    assert (measures.working_days, measures.on_days) == (2, 1)


# --- import-transactions -------------------------------------------------------------------

def test_transactions_are_imported_and_a_later_row_replaces_an_earlier(runner, tmp_path):
    path = write(tmp_path, "t.csv", f"date,work_no,transactions\n{DAY},T1001,30\n{DAY},T1001,42\n"
                 f"{DAY},T1002,0\n")
    assert run(runner, "import-transactions", path).exit_code == 0
    rows = {(r.person_id, r.day): r.count for r in db.session.scalars(select(DailyTransactions))}
    assert rows[(person("T1001").id, DAY)] == 42 and rows[(person("T1002").id, DAY)] == 0
    later = write(tmp_path, "t2.csv", f"date,work_no,transactions\n{DAY},T1001,45\n")
    assert run(runner, "import-transactions", later).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(DailyTransactions.count).where(
        DailyTransactions.person_id == person("T1001").id)) == 45


@pytest.mark.parametrize("row", [f"{DAY},T1001,-1", f"{DAY},T1001,3.5", f"{DAY},T1001,abc",
                                 f"{DAY},T1001,99999", f"{DAY},NOBODY,3", "2026/10/01,T1001,3",
                                 f"{TODAY + timedelta(days=3)},T1001,3"])
def test_a_bad_transactions_row_imports_nothing(runner, tmp_path, row):
    path = write(tmp_path, "t.csv", f"date,work_no,transactions\n{DAY},T1002,5\n{row}\n")
    result = run(runner, "import-transactions", path)
    assert result.exit_code == 1 and "line 3:" in result.stderr
    assert count(DailyTransactions) == 0


# --- the monthly R15 check -------------------------------------------------------------------

def _last_month_days():
    from portal.periods import previous_month

    period = previous_month(TODAY)
    return period, [period.start + timedelta(days=n) for n in range(period.days)]


def test_monthly_check_proposes_r15_only_for_tellers_below_a_limit(runner):
    period, days = _last_month_days()
    good, weak = person("T1001"), person("T1002")
    for day in days[:10]:
        for teller, rated in ((good, 10), (weak, 8)):  # 评价率 100 % and 80 %
            set_transactions(teller, day, 10)
            evaluator_on(teller, day)
            make_ratings(teller, 5, day, rated)
    result = runner.invoke(args=["ratings-monthly-check"])
    assert result.exit_code == 0 and f"{period.label}: " in result.output
    proposals = db.session.scalars(select(PointsProposal).where(PointsProposal.rule_code == "R15")).all()
    weak_ones = [p for p in proposals if p.person_id == weak.id]
    assert len(weak_ones) == 1 and "评价率 80 % < 85 %" in weak_ones[0].reason
    assert weak_ones[0].points == -1 and weak_ones[0].money == 100
    assert weak_ones[0].evidence_ref == period.label
    assert not [p for p in proposals if p.person_id == good.id]
    again = runner.invoke(args=["ratings-monthly-check", "--month", period.label])
    assert again.exit_code == 0 and ": 0 R15" in again.output


@pytest.mark.parametrize("month", ["2026-13", "2026Q3", "oct"])
def test_monthly_check_refuses_a_bad_month(runner, month):
    result = runner.invoke(args=["ratings-monthly-check", "--month", month])
    assert result.exit_code == 1 and "month must look like" in result.stderr


# --- API -------------------------------------------------------------------------------------

@pytest.fixture
def api(client):
    _, plain = create_token("HR")
    return lambda path: client.get(path, headers={"Authorization": f"Bearer {plain}"})


def test_the_ratings_api_answers_the_measures_and_projected_level(api):
    teller = person("T1001")
    for day in (date(2026, 10, 14), date(2026, 10, 15)):
        set_transactions(teller, day, 10)
        evaluator_on(teller, day)
    make_ratings(teller, 5, date(2026, 10, 15), 9)
    make_ratings(teller, 3, date(2026, 10, 15), 1)
    body = api("/api/v1/people/T1001/ratings?period=2026-10").get_json()
    assert body["work_no"] == "T1001" and body["period"] == "2026-10" and body["ratings"] == 10
    assert body["average"] == pytest.approx(4.8) and body["satisfaction_rate"] == pytest.approx(0.9)
    assert body["evaluation_rate"] == pytest.approx(0.5)
    assert body["on_rate"] == 1.0 and body["complaints_upheld"] == 0
    assert body["projected_level"] == 1
    quarter = api("/api/v1/people/T1001/ratings?period=2026Q4").get_json()
    assert quarter["period"] == "2026Q4" and quarter["ratings"] == 10


def test_the_ratings_api_gives_null_rates_for_an_empty_period(api):
    body = api("/api/v1/people/T1001/ratings?period=2020Q1").get_json()
    assert body["ratings"] == 0 and body["average"] is None
    assert body["evaluation_rate"] is None and body["on_rate"] is None
    assert body["satisfaction_rate"] is None and body["projected_level"] == 1


@pytest.mark.parametrize("period", ["", "2026-13", "2026Q0", "2026-1", "abc"])
def test_the_ratings_api_refuses_a_malformed_period_with_400(api, period):
    response = api(f"/api/v1/people/T1001/ratings?period={period}")
    assert response.status_code == 400 and "period" in response.get_json()["error"]


def test_the_ratings_api_answers_404_for_an_unknown_person(api):
    response = api("/api/v1/people/NOBODY/ratings?period=2026-10")
    assert response.status_code == 404 and response.get_json()["error"]


def test_the_ratings_api_needs_a_token(client):
    assert client.get("/api/v1/people/T1001/ratings?period=2026-10").status_code == 401


# --- demo history ---------------------------------------------------------------------------

def test_seed_demo_loads_six_months_of_consistent_history(empty_app):
    from portal.blueprints.ratings.services import measures_for
    from portal.demo import seed_demo
    from portal.periods import quarter_of

    seed_demo(today=date(2026, 11, 20))
    assert count(Rating) > 20_000 and count(DutySession) > 1_000
    assert count(StarLevel) == 10 and count(PointsProposal) >= 1
    first = db.session.scalar(select(func.min(Rating.local_date)))
    assert first >= date(2026, 11, 20) - timedelta(days=184)
    counted = db.session.scalar(select(func.sum(RatingDay.ratings)))
    assert counted == count(Rating)
    teller = person("T1001")
    measures = measures_for([teller.id], quarter_of(date(2026, 8, 1)))[teller.id]
    assert 0.8 < measures.evaluation_rate < 1 and measures.average > 4
