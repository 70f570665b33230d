"""The rules of the hall checklist, as pure functions (no app, no database)."""
from datetime import date
from fractions import Fraction

import pytest

from portal.blueprints.checklist.services import (
    DEFAULT_ITEMS, RULE_AMOUNTS, can_sign, check_template_rows, day_status, default_deadline,
    is_overdue, most_failed, pass_rate, progress,
)

TODAY = date(2026, 11, 26)
ROWS = [tuple(row) for row in DEFAULT_ITEMS]


# --- progress and sign-off -------------------------------------------------------------------

def test_progress_counts_every_item_that_is_not_unchecked():
    assert progress(["pass", "problem", "na", "unchecked", "unchecked"]) == 3
    assert progress([]) == 0
    assert progress(iter(["pass"] * 20)) == 20


def test_sign_off_needs_all_twenty_items_checked():
    assert can_sign(["pass"] * 19 + ["na"])
    assert can_sign(["pass"] * 18 + ["problem", "na"])
    assert not can_sign(["pass"] * 19 + ["unchecked"])  # 19 of 20


def test_sign_off_needs_exactly_twenty_items():
    assert not can_sign(["pass"] * 19)  # one item missing from the sheet
    assert not can_sign(["pass"] * 21)  # one item too many
    assert not can_sign([])
    assert can_sign(state for state in ["pass"] * 20)  # any iterable, read once


# --- deadlines -------------------------------------------------------------------------------

def test_the_default_rectification_deadline_is_the_next_day():
    assert default_deadline(date(2026, 11, 26)) == date(2026, 11, 27)
    assert default_deadline(date(2026, 12, 31)) == date(2027, 1, 1)
    assert default_deadline(date(2028, 2, 28)) == date(2028, 2, 29)


def test_a_problem_is_overdue_only_after_its_deadline_day():
    deadline = date(2026, 11, 27)
    assert not is_overdue(deadline, date(2026, 11, 26))
    assert not is_overdue(deadline, deadline)  # on the deadline day itself: still in time
    assert is_overdue(deadline, date(2026, 11, 28))
    assert not is_overdue(None, date(2030, 1, 1))


# --- pass rate -------------------------------------------------------------------------------

def test_pass_rate_counts_passed_of_judged_items_leaving_not_applicable_out():
    # 18 合格, 1 不合格, 1 不适用: the n/a item is in neither side
    assert pass_rate(18, 1) == Fraction(18, 19)
    assert pass_rate(20, 0) == 1
    assert pass_rate(0, 3) == 0
    assert isinstance(pass_rate(1, 2), Fraction)


def test_pass_rate_is_none_when_nothing_was_judged():
    assert pass_rate(0, 0) is None


# --- calendar status -------------------------------------------------------------------------

@pytest.mark.parametrize("day, checked, signed, expected", [
    (date(2026, 11, 20), 20, True, "signed"),
    (TODAY, 20, True, "signed"),  # signed today
    (date(2026, 11, 20), 12, False, "partial"),
    (date(2026, 11, 20), 20, False, "partial"),  # all ticked but never signed
    (date(2026, 11, 20), 0, False, "missed"),  # sheet opened, nothing ticked
    (date(2026, 11, 20), None, False, "missed"),  # no sheet at all
    (date(2026, 11, 25), 0, False, "missed"),  # yesterday counts as past
    (TODAY, 0, False, "open"),
    (TODAY, 7, False, "open"),  # today is never missed or partial: the day is not over
    (date(2026, 11, 27), 0, False, "future"),
    (date(2026, 12, 1), None, False, "future"),
])
def test_day_status(day, checked, signed, expected):
    assert day_status(day, TODAY, checked, signed) == expected


# --- most failed items -----------------------------------------------------------------------

def test_most_failed_orders_by_failures_then_by_item_number():
    failures = [12, 5, 12, 14, 5, 12, 3, 14, 9]
    assert most_failed(failures) == [(12, 3), (5, 2), (14, 2), (3, 1), (9, 1)]


def test_most_failed_keeps_only_the_limit_and_handles_nothing():
    assert most_failed([1, 2, 3, 4, 5, 6, 7], limit=3) == [(1, 1), (2, 1), (3, 1)]
    assert most_failed([20, 20, 1], limit=1) == [(20, 2)]
    assert most_failed([]) == []


# --- template rows ---------------------------------------------------------------------------

def test_the_default_template_rows_are_valid():
    assert len(ROWS) == 20 and check_template_rows(ROWS) == {}
    assert {rule for _, _, rule in ROWS} - {""} <= set(RULE_AMOUNTS)


def test_a_template_must_have_exactly_twenty_rows():
    assert list(check_template_rows(ROWS[:19])) == [0]
    assert list(check_template_rows(ROWS + [("安全管理", "新增一项", "")])) == [0]
    assert "20" in check_template_rows(ROWS[:19])[0]


def _with(number: int, category=None, text=None, rule=None) -> list:
    rows = list(ROWS)
    old = rows[number - 1]
    rows[number - 1] = (old[0] if category is None else category,
                        old[1] if text is None else text, old[2] if rule is None else rule)
    return rows


@pytest.mark.parametrize("change, message", [
    ({"category": ""}, "类别"),
    ({"category": "   "}, "类别"),
    ({"category": "类" * 21}, "类别"),
    ({"text": ""}, "检查内容"),
    ({"text": "字" * 201}, "检查内容"),
    ({"rule": "R99"}, "扣分条款"),
    ({"rule": "r02"}, "扣分条款"),
])
def test_a_bad_row_is_reported_by_its_number(change, message):
    problems = check_template_rows(_with(7, **change))
    assert list(problems) == [7] and message in problems[7]


@pytest.mark.parametrize("change", [
    {"category": "类" * 20}, {"category": "  网点环境  "}, {"text": "字" * 200}, {"rule": ""},
    *({"rule": code} for code in RULE_AMOUNTS),
])
def test_rows_on_the_limits_are_accepted(change):
    assert check_template_rows(_with(7, **change)) == {}


def test_every_bad_row_is_reported():
    rows = _with(3, category="")
    rows[15] = ("服务行为", "", "")
    assert sorted(check_template_rows(rows)) == [3, 16]
