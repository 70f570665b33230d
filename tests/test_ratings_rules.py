"""The rules of star-rated evaluations, as pure functions (no app, no database)."""
from dataclasses import replace
from datetime import date
from fractions import Fraction

import pytest

from portal.blueprints.ratings.services import (
    DEFAULT_THRESHOLDS, Measures, clean_comment, next_level_gap, number, percent, r15_findings,
    ratio, shortfalls, star_level,
)
from portal.periods import BadPeriod, last_months, month, parse, parse_quarter, previous_month, quarter

F = Fraction

# Exactly on every ★★★★★ boundary: 100 ratings, average 4.80, 满意率 99.5 %, 评价率 95 %,
# 开机率 100 %, 0 upheld complaints, net points 0.
FIVE = Measures(ratings=200, stars=960, satisfied=199, transactions=210, working_days=60,
                on_days=60, complaints_upheld=0, net_points=F(0))
FIVE_EXACT = Measures(ratings=100, stars=480, satisfied=100, transactions=100, working_days=60,
                      on_days=60)


def test_a_teller_on_every_five_star_boundary_is_five_stars():
    assert FIVE.average == F("4.8") and FIVE.satisfaction_rate == F("0.995")
    assert star_level(FIVE) == 5
    assert star_level(FIVE_EXACT) == 5


@pytest.mark.parametrize("change, expected", [
    ({"ratings": 99, "stars": 99 * 5, "satisfied": 99, "transactions": 99}, 4),  # 99 ratings
    ({"stars": 959}, 4),  # average 4.795 < 4.80
    ({"satisfied": 198}, 4),  # 99 % < 99.5 %
    ({"transactions": 211}, 4),  # 评价率 94.8 % < 95 %
    ({"on_days": 59}, 3),  # 开机率 98.3 %: below 100 % for ★★★★★ and ★★★★
    ({"complaints_upheld": 1}, 3),  # one upheld complaint: ★★★ allows 1
    ({"net_points": F(-1)}, 4),  # −1 point: ★★★★ allows −1
    ({"net_points": F("-1.5")}, 3),
])
def test_missing_one_five_star_condition_drops_the_level(change, expected):
    assert star_level(replace(FIVE, **change)) == expected


def test_four_star_boundaries():
    four = Measures(ratings=60, stars=276, satisfied=60, transactions=66, working_days=20,
                    on_days=20, net_points=F(-1))
    assert four.average == F("4.6") and four.evaluation_rate > F("0.9")
    assert star_level(four) == 4
    assert star_level(replace(four, ratings=59, stars=59 * 5, satisfied=59, transactions=60)) == 3
    assert star_level(replace(four, stars=275)) == 3


def test_three_star_boundaries():
    three = Measures(ratings=30, stars=129, satisfied=30, transactions=35, working_days=20,
                     on_days=19, complaints_upheld=1, net_points=F(-3))
    assert three.average == F("4.3") and three.on_rate == F("0.95")
    assert star_level(three) == 3
    assert star_level(replace(three, on_days=18)) == 2  # 90 %
    assert star_level(replace(three, complaints_upheld=2)) == 2
    assert star_level(replace(three, net_points=F("-3.1"))) == 2


def test_two_star_boundaries_ignore_points():
    two = Measures(ratings=10, stars=40, satisfied=10, transactions=14, working_days=10,
                   on_days=9, complaints_upheld=2, net_points=F(-12))
    assert two.evaluation_rate == F(10, 14) and star_level(two) == 2
    assert star_level(replace(two, transactions=15)) == 1  # 评价率 66.7 % < 70 %
    assert star_level(replace(two, complaints_upheld=3)) == 1
    assert star_level(replace(two, ratings=9, stars=36, satisfied=9)) == 1


def test_satisfaction_counts_four_and_five_stars():
    measures = Measures(ratings=20, stars=80, satisfied=19)
    assert measures.satisfaction_rate == F(19, 20)


def test_an_empty_period_has_no_rates_and_no_division_error():
    empty = Measures()
    assert empty.average is None and empty.satisfaction_rate is None
    assert empty.evaluation_rate is None and empty.on_rate is None
    assert star_level(empty) == 1
    assert percent(empty.evaluation_rate) == "—" and number(empty.average) == "—"


def test_ratings_without_transactions_have_no_evaluation_rate():
    assert Measures(ratings=3, stars=15, satisfied=3).evaluation_rate is None
    assert ratio(3, 0) is None


def test_the_missing_conditions_are_named_exactly():
    measures = Measures(ratings=88, stars=440, satisfied=88, transactions=100, working_days=30,
                        on_days=30)
    level, missing = next_level_gap(measures)
    assert star_level(measures) == 3 and level == 4
    assert missing == ["评价率需达到 90 %"]
    five = [row for row in DEFAULT_THRESHOLDS if row.level == 5][0]
    assert shortfalls(five, measures) == ["还差 12 条评价", "评价率需达到 95 %"]


def test_there_is_no_level_above_five():
    assert next_level_gap(FIVE) is None


@pytest.mark.parametrize("measures, findings", [
    (Measures(ratings=90, stars=450, satisfied=90, transactions=100, working_days=20, on_days=20), []),
    (Measures(ratings=85, stars=425, satisfied=85, transactions=100, working_days=20, on_days=20), []),
    (Measures(ratings=84, stars=420, satisfied=84, transactions=100, working_days=20, on_days=20),
     ["评价率 84 % < 85 %"]),
    (Measures(ratings=100, stars=495, satisfied=99, transactions=100, working_days=20, on_days=20), []),
    (Measures(ratings=100, stars=490, satisfied=98, transactions=100, working_days=20, on_days=20),
     ["满意率 98 % < 99 %"]),
    (Measures(ratings=100, stars=500, satisfied=100, transactions=100, working_days=20, on_days=19),
     ["开机率 95 % < 100 %"]),
    (Measures(), []),  # no transactions, no ratings: nothing to check
])
def test_the_monthly_r15_check_on_its_boundaries(measures, findings):
    assert r15_findings(measures) == findings


def test_all_three_r15_failures_are_listed():
    measures = Measures(ratings=10, stars=30, satisfied=5, transactions=100, working_days=20,
                        on_days=10)
    assert len(r15_findings(measures)) == 3


def test_percent_and_number_formatting():
    assert percent(F("0.995")) == "99.5 %" and percent(F(1)) == "100 %"
    assert number(F("4.8")) == "4.8" and number(F(-1)) == "−1" and number(F(0)) == "0"


@pytest.mark.parametrize("text", ["好" * 500, "态度很好\n谢谢", "ｅ\u0301"])
def test_comments_up_to_500_characters_after_nfc_are_accepted(text):
    assert len(clean_comment(text)) <= 500


@pytest.mark.parametrize("text", ["好" * 501, "bad\x00byte", "bell\x07", "esc\x1b[31m"])
def test_long_comments_and_control_characters_are_refused(text):
    with pytest.raises(ValueError):
        clean_comment(text)


def test_nfc_normalisation_counts_a_composed_character_once():
    assert clean_comment("e\u0301" * 500) == "\u00e9" * 500


def test_periods_parse_months_and_quarters():
    assert parse("2026-02") == month(2026, 2)
    assert month(2024, 2).days == 29 and month(2026, 12).end.isoformat() == "2026-12-31"
    q3 = parse("2026Q3")
    assert (q3.start.isoformat(), q3.end.isoformat()) == ("2026-07-01", "2026-09-30")
    assert parse_quarter("2026Q4") == quarter(2026, 4)


@pytest.mark.parametrize("text", ["2026-13", "2026Q5", "2026-1", "26-01", "2026q1", "", "2026-00",
                                  "0000-01", "9999-12", "0000Q1", "9999Q4"])
def test_bad_periods_are_refused(text):
    with pytest.raises(BadPeriod):
        parse(text)


def test_a_month_is_not_a_quarter():
    with pytest.raises(BadPeriod):
        parse_quarter("2026-01")


def test_twelve_months_back_cross_the_year():
    months = last_months(date(2026, 3, 15), 12)
    assert [m.label for m in months][:2] == ["2025-04", "2025-05"] and months[-1].label == "2026-03"
    assert previous_month(date(2026, 1, 10)).label == "2025-12"
