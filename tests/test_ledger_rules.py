"""The points ledger's rules (SPEC section 5), each on its boundaries, without an app."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.blueprints.ledger.services import (
    BASE_POINTS, CATALOGUE, RULES, default_amounts, doubled, fine_due, grade_cap, in_range,
    is_repeat, manager_charge, pileup_reached, r22_due, three_within)

D = Decimal


def test_the_year_starts_at_twelve_points():
    assert BASE_POINTS == D(12)


def test_the_catalogue_holds_every_code_of_the_programme_once():
    codes = [rule.code for rule in CATALOGUE]
    assert len(codes) == len(set(codes)) == 38
    for code in ("R01a", "R01b", "R03b", "R11a", "R11b", "R19", "R19b", "R19c", "R21", "R22",
                 "M01", "M02", "A03b", "A06", "A08"):
        assert code in RULES
    assert all(rule.points[0] <= 0 and rule.points[1] <= 0 for rule in CATALOGUE
               if rule.is_deduction)
    assert all(rule.points[0] > 0 for rule in CATALOGUE if rule.kind == "award")


@pytest.mark.parametrize("code, points, money, inside", [
    ("R19", "-2", "200", True), ("R19", "-5", "500", True), ("R19", "-1", "200", False),
    ("R19", "-6", "200", False), ("R08", "-3", "300", True), ("A06", "3", "300", True),
    ("A06", "4", "300", False), ("R04", "-1", "100", True), ("R04", "-2", "100", False),
])
def test_a_value_outside_the_rule_s_range_is_refused(code, points, money, inside):
    rule = RULES[code]
    assert (in_range(D(points), rule.points) and in_range(D(money), rule.money)) is inside


def test_default_amounts_are_the_mildest_end_of_a_range():
    assert default_amounts(RULES["R19"]) == (D(-2), D(200))
    assert default_amounts(RULES["R19c"]) == (D(-5), D(500))
    assert default_amounts(RULES["A08"]) == (D(1), D(200))
    assert default_amounts(RULES["R04"]) == (D(-1), D(100))


DAY = date(2026, 5, 31)


@pytest.mark.parametrize("gap, repeat", [(0, True), (1, True), (29, True), (30, True),
                                         (31, False), (45, False)])
def test_a_repeat_within_thirty_days_doubles(gap, repeat):
    assert is_repeat(DAY, [DAY - timedelta(days=gap)]) is repeat


def test_a_repeat_across_the_new_year_still_doubles():
    assert is_repeat(date(2027, 1, 10), [date(2026, 12, 15)]) is True  # 26 days
    assert is_repeat(date(2027, 1, 20), [date(2026, 12, 20)]) is False  # 31 days


def test_a_later_entry_is_no_earlier_offence():
    assert is_repeat(DAY, [DAY + timedelta(days=1)]) is False
    assert is_repeat(DAY, []) is False


def test_doubling_doubles_points_and_fine():
    assert doubled(D(-2), D(200), True) == (D(-4), D(400))
    assert doubled(D(-2), D(200), False) == (D(-2), D(200))


def test_the_manager_pays_the_same_with_management_responsibility_and_half_without():
    rule = RULES["R04"]
    assert manager_charge(rule, D(-2), D(200), True) == (D(-2), D(200))  # after doubling
    assert manager_charge(rule, D(-1), D(100), False) == (D("-0.5"), D("50.00"))
    assert manager_charge(RULES["R12"], D(-1), D(100), False)[0] == D("-0.5")


def test_a_rule_s_own_manager_charge_applies_instead():
    assert manager_charge(RULES["R07"], D(-4), D(400), True) == (D(-1), D(100))
    assert manager_charge(RULES["R19b"], D(-3), D(300), False) == (D(-2), D(200))
    assert manager_charge(RULES["R19c"], D(-5), D(500), False) == (D(-2), D(200))


def test_pile_up_rules_and_awards_charge_no_manager_per_entry():
    assert manager_charge(RULES["R01a"], D(-1), D(50), True) is None
    assert manager_charge(RULES["R02"], D(-1), D(50), False) is None
    assert manager_charge(RULES["A01"], D(1), D(100), False) is None
    assert manager_charge(RULES["M01"], D(-2), D(200), True) is None


@pytest.mark.parametrize("before, after, charged", [(1, 2, False), (2, 3, True), (3, 4, False),
                                                    (0, 3, True)])
def test_the_pile_up_charges_once_when_the_day_reaches_three(before, after, charged):
    assert pileup_reached(before, after) is charged


def test_three_deductions_within_thirty_days_put_a_person_in_warning():
    first = date(2026, 3, 1)
    assert three_within([first, first + timedelta(days=10), first + timedelta(days=29)]) == \
        first + timedelta(days=29)
    assert three_within([first, first + timedelta(days=10), first + timedelta(days=30)]) is None
    assert three_within([first, first + timedelta(days=1)]) is None
    assert three_within([first + timedelta(days=40), first, first + timedelta(days=41),
                         first + timedelta(days=45)]) == first + timedelta(days=45)


@pytest.mark.parametrize("points, complaints, cap", [
    ("10", 1, "B"), ("10.1", 1, None), ("10", 0, None),
    ("8", 2, "B"), ("8.5", 2, "B"), ("10.5", 2, None),
    ("6", 3, "C"), ("6.1", 3, "B"), ("6", 2, "B"),
    ("5.9", 4, "D"), ("6", 4, "C"), ("5.9", 3, "C"),
    ("12", 5, None), ("-2", 0, None),
])
def test_each_grade_cap_line_with_its_less_than_or_equal(points, complaints, cap):
    assert grade_cap(D(points), complaints) == cap


def test_fines_fall_due_after_three_days_and_r22_two_days_later():
    confirmed = date(2026, 6, 1)
    assert fine_due(confirmed) == date(2026, 6, 4)
    assert r22_due(confirmed, date(2026, 6, 5)) is False
    assert r22_due(confirmed, date(2026, 6, 6)) is True
