"""The quarterly score's rules on plain values (SPEC section 7), without an app."""
from datetime import date
from decimal import Decimal

import pytest

from portal.blueprints.scores.services import (BadScore, complaint_deduction, is_recordable,
                                               outlet_score, parse_score, quarter_from, ranks,
                                               recent_quarters, subbranch_score, weights)
from portal.periods import BadPeriod

D = Decimal


# --- the outlet score: 40/40/20 and the reweighting ---------------------------------------------

def test_all_three_checks_weigh_40_40_20():
    assert outlet_score(D(90), D(80), D(70)) == D("82.00")  # 36 + 32 + 14
    # each weight on its own check: a rule with another weight would move the result
    assert outlet_score(D(100), D(0), D(0)) == D("40.00")
    assert outlet_score(D(0), D(100), D(0)) == D("40.00")
    assert outlet_score(D(0), D(0), D(100)) == D("20.00")


@pytest.mark.parametrize("mystery, offsite, onsite, expected", [
    (None, D(80), D(70), D("75.00")),  # off-site and on-site 50 % each (not 40/20 → 76.67)
    (D(90), None, D(70), D("80.00")),  # mystery and on-site 50 % each (not 40/20 → 83.33)
    (D(90), D(80), None, D("85.00")),  # mystery and off-site 50 % each
], ids=["no-mystery", "no-offsite", "no-onsite"])
def test_one_check_not_done_leaves_the_other_two_at_50_percent_each(mystery, offsite, onsite,
                                                                      expected):
    assert outlet_score(mystery, offsite, onsite) == expected


@pytest.mark.parametrize("mystery, offsite, onsite", [
    (D("77.5"), None, None), (None, D("77.5"), None), (None, None, D("77.5"))])
def test_two_checks_not_done_leave_the_one_left_at_100_percent(mystery, offsite, onsite):
    assert outlet_score(mystery, offsite, onsite) == D("77.50")


def test_no_check_done_means_no_score_even_with_a_deduction():
    assert outlet_score(None, None, None) is None
    assert outlet_score(None, None, None, D(10)) is None


def test_the_weights_sum_to_one_in_every_case():
    for done in [("mystery", "offsite", "onsite"), ("offsite", "onsite"), ("mystery",)]:
        assert sum(weights(done).values()) == 1
    assert weights(()) == {}


def test_zero_scores_done_are_scores_not_checks_left_out():
    assert outlet_score(D(0), None, None) == D("0.00")
    assert outlet_score(D(0), D(100), None) == D("50.00")


# --- the complaint deduction --------------------------------------------------------------------

def test_a_counted_complaint_costs_2_and_one_that_reached_branch_or_media_5():
    assert complaint_deduction(0, 0) == 0
    assert complaint_deduction(1, 0) == 2
    assert complaint_deduction(0, 1) == 5  # instead of 2, not on top of it
    assert complaint_deduction(3, 2) == 16


def test_the_deduction_follows_the_amounts_the_office_set():
    assert complaint_deduction(2, 1, D("1.5"), D(4)) == D(7)
    assert complaint_deduction(2, 1, D(0), D(0)) == 0


def test_the_deduction_comes_off_the_weighted_checks():
    assert outlet_score(D(90), D(80), D(70), complaint_deduction(1, 1)) == D("75.00")  # 82 − 7
    assert outlet_score(D(90), None, None, complaint_deduction(0, 1)) == D("85.00")


def test_the_score_is_not_floored_at_zero():
    assert outlet_score(D(10), None, None, complaint_deduction(0, 3)) == D("-5.00")


def test_the_score_is_rounded_half_up_to_cents():
    # 0.4 × 88.5 + 0.4 × 91.3 + 0.2 × 85.1 = 88.94, exact with one-decimal inputs
    assert outlet_score(D("88.5"), D("91.3"), D("85.1")) == D("88.94")
    assert outlet_score(D("88.5"), D("91.3"), D("85.1")).as_tuple().exponent == -2


# --- the sub-branch score -----------------------------------------------------------------------

def test_a_subbranch_weighs_its_outlets_40_and_management_60_plus_the_bonuses():
    # average of 80 and 90 = 85 → 34; management 70 → 42; + 2 + 1
    assert subbranch_score([D(80), D(90)], D(70), D(2), D(1)) == D("79.00")
    assert subbranch_score([D(80), D(90)], D(70)) == D("76.00")


def test_without_a_management_score_the_outlets_average_weighs_100_percent():
    assert subbranch_score([D(80), D(90)], None) == D("85.00")
    assert subbranch_score([D(80), D(90)], None, D(2), D("1.5")) == D("88.50")  # bonuses added


def test_outlets_without_a_score_are_left_out_of_the_average():
    assert subbranch_score([D(80), None, D(90)], None) == D("85.00")  # not 56.67
    assert subbranch_score([D(80), None], D(70)) == D("74.00")


def test_without_any_outlet_score_the_management_score_weighs_100_percent():
    assert subbranch_score([None, None], D(70), D(2), D(0)) == D("72.00")
    assert subbranch_score([], D(70)) == D("70.00")


def test_neither_outlet_scores_nor_a_management_score_means_no_score_whatever_the_bonuses():
    assert subbranch_score([None], None, D(5), D(5)) is None
    assert subbranch_score([], None) is None


def test_the_subbranch_average_is_rounded_once_at_the_end():
    # average of 80, 80, 80.01 … → (240.01 / 3) = 80.00333…; the score is 80.00
    assert subbranch_score([D("80.00"), D("80.00"), D("80.01")], None) == D("80.00")
    assert subbranch_score([D("80.01"), D("80.02")], None) == D("80.02")  # 80.015 half up


# --- typed scores -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("0", D(0)), ("100", D(100)), ("100.0", D(100)), ("87.5", D("87.5")), (" 60 ", D(60)),
    ("", None), ("   ", None), (None, None)])
def test_scores_from_0_to_100_with_one_decimal_are_accepted_and_empty_is_not_done(text,
                                                                                    expected):
    assert parse_score(text) == expected


@pytest.mark.parametrize("text, reason", [
    ("100.1", "range"), ("-1", "range"), ("101", "range"), ("-0.1", "range"),
    ("87.55", "places"), ("abc", "number"), ("1e2", "number"), ("８０", "number"),
    ("NaN", "number"), ("Infinity", "number"), ("80,5", "number"), (".5", "number"),
    ("5.", "number"), ("9" * 20, "number")])
def test_other_scores_are_refused_with_the_reason(text, reason):
    with pytest.raises(BadScore) as refused:
        parse_score(text)
    assert refused.value.reason == reason


def test_a_bonus_is_bounded_by_its_own_limit():
    assert parse_score("10", D(10)) == D(10)
    with pytest.raises(BadScore):
        parse_score("10.5", D(10))


# --- ranking and quarters -----------------------------------------------------------------------

def test_equal_scores_share_a_rank_and_unscored_ones_get_none():
    assert ranks([D(80), D(90), None, D(80), D(70)]) == [2, 1, None, 2, 4]
    assert ranks([None, None]) == [None, None]
    assert ranks([D(-5), D(0)]) == [2, 1]


def test_a_missing_quarter_is_the_current_one():
    assert quarter_from(None, date(2026, 11, 26)).label == "2026Q4"
    assert quarter_from("", date(2026, 1, 1)).label == "2026Q1"
    assert quarter_from("2025q3", date(2026, 1, 1)).label == "2025Q3"


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "2026-07", "2026", "Q3 2026", "1999Q4",
                                  "2101Q1", "２０２６Q3"])
def test_a_malformed_quarter_is_refused(text):
    with pytest.raises(BadPeriod):
        quarter_from(text, date(2026, 11, 26))


def test_scores_are_recorded_for_the_current_quarter_or_earlier_only():
    today = date(2026, 11, 26)
    quarters = recent_quarters(today, 3)
    assert [q.label for q in quarters] == ["2026Q4", "2026Q3", "2026Q2"]
    assert is_recordable(quarters[0], today) and is_recordable(quarters[2], today)
    assert not is_recordable(quarter_from("2027Q1", today), today)
