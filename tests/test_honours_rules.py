"""Pure rules of the honours board: periods of each cadence, the yearly cap, the rankings, what
the board shows as current, the award entry's day and which quarters a month closes."""
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from portal.blueprints.honours import services
from portal.blueprints.honours.services import (MonthlyFacts, YearlyFacts, cap_reached,
                                                current_quarters, current_since, entry_day,
                                                parse_board_period, parse_period, period_problem,
                                                quarters_in, rank_monthly, rank_yearly)
from portal.periods import BadPeriod, month, year


def test_the_catalogue_links_the_star_to_a01_and_the_grievance_award_to_a06():
    titles = services.TITLE_BY_CODE
    assert (titles["monthly_star"].name, titles["monthly_star"].rule) == ("月度服务明星", "A01")
    assert (titles["grievance"].name, titles["grievance"].rule) == ("委屈奖", "A06")
    assert titles["post_expert"].rule is None and titles["rising_star"].rule is None
    assert titles["yearly_model"].cadence == services.YEARLY
    assert not titles["quarterly_five_star"].nominated
    assert "quarterly_five_star" not in {t.code for t in services.NOMINATED}


@pytest.mark.parametrize("cadence, text, label, start, end", [
    (services.MONTHLY, "2026-10", "2026-10", date(2026, 10, 1), date(2026, 10, 31)),
    (services.MONTHLY, " 2024-02 ", "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    (services.YEARLY, "2026", "2026", date(2026, 1, 1), date(2026, 12, 31)),
    (services.DAILY, "2026-10-12", "2026-10-12", date(2026, 10, 12), date(2026, 10, 12)),
    (services.QUARTERLY, "2026Q3", "2026Q3", date(2026, 7, 1), date(2026, 9, 30)),
])
def test_each_cadence_reads_its_own_period(cadence, text, label, start, end):
    period = parse_period(cadence, text)
    assert (period.label, period.start, period.end) == (label, start, end)


@pytest.mark.parametrize("cadence, text", [
    (services.MONTHLY, "2026-13"), (services.MONTHLY, "2026-1"), (services.MONTHLY, "2026"),
    (services.MONTHLY, "2026-10-01"), (services.YEARLY, "26"), (services.YEARLY, "2026-10"),
    (services.YEARLY, "1999"), (services.DAILY, "2026-02-30"), (services.DAILY, "2026-10"),
    (services.DAILY, "2026-1-5"), (services.MONTHLY, ""), (services.MONTHLY, "２０２６-10"),
    (services.QUARTERLY, "2026Q5"), ("unknown", "2026"),
])
def test_a_period_of_the_wrong_shape_is_refused(cadence, text):
    with pytest.raises(BadPeriod):
        parse_period(cadence, text)


def test_the_board_archive_takes_a_month_or_a_year():
    assert parse_board_period("2026-10") == month(2026, 10)
    assert parse_board_period("2025") == year(2025)
    for bad in ("2026-10-01", "abc", "2026Q1", "20261"):
        with pytest.raises(BadPeriod):
            parse_board_period(bad)


def test_a_nomination_period_must_have_begun_and_be_this_year_or_last():
    today = date(2026, 11, 20)
    assert period_problem(month(2026, 11), today) is None  # the running month may be nominated
    assert period_problem(month(2026, 12), today)
    assert period_problem(month(2025, 1), today) is None
    assert period_problem(month(2024, 12), today)
    assert period_problem(year(2027), today)


def test_the_sixth_yearly_model_of_a_sub_branch_is_refused():
    assert not cap_reached(4)  # the fifth may still be nominated
    assert cap_reached(5)  # a sixth may not


def test_the_award_entry_is_dated_in_the_period():
    october = month(2026, 10)
    assert entry_day(october, date(2026, 11, 3)) == date(2026, 10, 31)  # approved after it
    assert entry_day(october, date(2026, 10, 28)) == date(2026, 10, 28)
    assert entry_day(october, date(2026, 9, 28)) == date(2026, 10, 1)
    day = parse_period(services.DAILY, "2026-10-12")
    assert entry_day(day, date(2026, 10, 20)) == date(2026, 10, 12)


def _m(pid, stars, ratings, upheld=0):
    return MonthlyFacts(pid, f"T{pid:04d}", ratings, stars, upheld)


def test_the_monthly_ranking_puts_the_best_average_first_then_more_ratings():
    rows = [_m(1, 90, 20), _m(2, 196, 40), _m(3, 98, 20), _m(4, 49, 10)]
    ranked = rank_monthly(rows)
    # 4.9 with 40 ratings beats 4.9 with 20 and with 10; 4.5 last
    assert [r.person_id for r in ranked] == [2, 3, 4, 1]
    assert ranked[0].average == Fraction(49, 10)


def test_an_upheld_complaint_in_the_month_leaves_a_teller_out():
    ranked = rank_monthly([_m(1, 100, 20, upheld=1), _m(2, 80, 20)])
    assert [r.person_id for r in ranked] == [2]


def test_tellers_without_ratings_come_last_and_full_ties_go_by_work_number():
    ranked = rank_monthly([_m(3, 0, 0), _m(2, 50, 10), _m(1, 50, 10)])
    assert [r.person_id for r in ranked] == [1, 2, 3]
    assert ranked[-1].average is None


def test_the_yearly_ranking_goes_by_balance_then_monthly_stars():
    rows = [YearlyFacts(1, "T0001", Decimal("13"), 1), YearlyFacts(2, "T0002", Decimal("14.5"), 0),
            YearlyFacts(3, "T0003", Decimal("13"), 3), YearlyFacts(4, "T0004", Decimal("13"), 1)]
    assert [r.person_id for r in rank_yearly(rows)] == [2, 3, 1, 4]


def test_the_board_shows_last_and_this_month_year_and_quarter_as_current():
    since = current_since(date(2026, 11, 20))
    assert since[services.MONTHLY] == date(2026, 10, 1) == since[services.DAILY]
    assert since[services.YEARLY] == date(2025, 1, 1)
    assert current_since(date(2026, 1, 5))[services.MONTHLY] == date(2025, 12, 1)
    assert current_quarters(date(2026, 11, 20)) == ["2026Q3", "2026Q4"]
    assert current_quarters(date(2026, 2, 1)) == ["2025Q4", "2026Q1"]


def test_the_quarterly_five_star_of_a_month_is_the_quarter_ending_in_it():
    assert quarters_in(month(2026, 9)) == ["2026Q3"]
    assert quarters_in(month(2026, 10)) == []
    assert quarters_in(year(2026)) == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
