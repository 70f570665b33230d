"""The rules of complaint handling, as pure functions (no app, no database)."""
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from portal.blueprints.complaints.services import (
    ComplaintFacts, add_business_time, decision_due, deduction_for, is_buck_passing, is_late,
    level_of_channel, measure, phone_matches, ticket_number,
)

F = Fraction
MON = date(2026, 11, 23)


def at(hour: int, minute: int = 0, second: int = 0, day: date = MON) -> datetime:
    return datetime.combine(day, time(hour, minute, second))


NEXT = MON + timedelta(days=1)


# --- business hours (1小时响应) ----------------------------------------------------------------

@pytest.mark.parametrize("start, due", [
    (at(8, 59), at(10)),  # before opening: the hour starts at 09:00
    (at(0, 0), at(10)),
    (at(9), at(10)),
    (at(12, 15, 30), at(13, 15, 30)),
    (at(16), at(17)),  # ends exactly at closing, the same day
    (at(16, 0, 1), at(9, 0, 1, NEXT)),  # one second past: that second spills to the next day
    (at(16, 30), at(9, 30, day=NEXT)),
    (at(17), at(10, day=NEXT)),  # received at closing: nothing of that day counts
    (at(20), at(10, day=NEXT)),
    (at(23), at(10, day=NEXT)),
])
def test_one_business_hour(start, due):
    assert add_business_time(start, 1) == due


def test_business_hours_span_a_month_end():
    assert add_business_time(datetime(2026, 11, 30, 16, 45), 1) == datetime(2026, 12, 1, 9, 45)


def test_custom_business_hours():
    opens, closes = time(8, 30), time(17, 30)
    assert add_business_time(at(8), 1, opens, closes) == at(9, 30)
    assert add_business_time(at(17), 1, opens, closes) == at(9, day=NEXT)
    assert add_business_time(at(16, 30), 1, opens, closes) == at(17, 30)


def test_fractional_hours():
    assert add_business_time(at(16, 45), 0.5) == at(9, 15, day=NEXT)


def test_more_hours_than_a_business_day_spill_over_several_days():
    # 20 hours from Monday 09:00 with 8-hour days: 8 on Mon, 8 on Tue, 4 on Wed
    assert add_business_time(at(9), 20) == at(13, day=MON + timedelta(days=2))
    # exactly two whole days end at Tuesday's closing, not Wednesday's opening
    assert add_business_time(at(9), 16) == at(17, day=NEXT)
    # received in the evening: counting starts the next morning
    assert add_business_time(at(18), 10) == at(11, day=MON + timedelta(days=2))


def test_business_hours_must_open_before_they_close():
    with pytest.raises(ValueError):
        add_business_time(at(9), 1, time(17), time(9))
    with pytest.raises(ValueError):
        add_business_time(at(9), 1, time(9), time(9))


# --- decision limit and lateness ---------------------------------------------------------------

def test_decision_is_due_in_15_days_or_30_once_extended():
    received = at(16, 20)
    assert decision_due(received) == datetime(2026, 12, 8, 16, 20)
    assert decision_due(received, extended=True) == datetime(2026, 12, 23, 16, 20)
    assert decision_due(received, extended=False) - received == timedelta(days=15)


def test_done_exactly_at_the_due_moment_is_not_late():
    due = at(10)
    second = timedelta(seconds=1)
    assert not is_late(due, due, now=due + timedelta(days=3))
    assert is_late(due, due + second, now=due + timedelta(days=3))
    assert not is_late(due, due - second, now=due + timedelta(days=3))


def test_not_done_is_late_only_once_the_due_moment_has_passed():
    due = at(10)
    second = timedelta(seconds=1)
    assert not is_late(due, None, now=due)
    assert is_late(due, None, now=due + second)
    # done in time stays on time, whatever the clock says now
    assert not is_late(due, due - second, now=due + timedelta(days=30))


# --- tickets, look-up, deductions, levels ------------------------------------------------------

def test_ticket_number_format():
    assert ticket_number(date(2026, 11, 23), 7) == "TS20261123-0007"
    assert ticket_number(date(2026, 1, 5), 1) == "TS20260105-0001"
    assert ticket_number(date(2026, 1, 5), 1234) == "TS20260105-1234"


@pytest.mark.parametrize("phone, last_four, expected", [
    ("13800138000", "8000", True),
    ("138 0013 8000", "8000", True),
    ("138-0013-8000", "8000", True),
    ("+86 138-0013-8000", "8000", True),
    ("13800138000", "0138", False),  # not the last four
    ("13800138000", "800", False),  # three digits are not enough
    ("13800138000", "38000", False),
    ("123", "0123", False),  # a phone shorter than four digits never matches
    ("12-3", "0123", False),
    ("1234", "1234", True),
    ("", "0000", False),  # anonymous: no look-up
    ("13800138000", "80a0", False),
    ("13800138000", "abcd", False),
    ("abcd", "abcd", False),
])
def test_phone_matches_the_last_four_digits(phone, last_four, expected):
    assert phone_matches(phone, last_four) is expected


@pytest.mark.parametrize("level, rule, points, fine", [
    ("outlet", "R19", "-2", "200"),
    ("branch", "R19b", "-3", "300"),
    ("media", "R19c", "-5", "500"),
])
def test_the_deduction_follows_how_far_the_customer_took_it(level, rule, points, fine):
    assert deduction_for(level) == (rule, Decimal(points), Decimal(fine))


def test_an_unknown_level_has_no_deduction():
    with pytest.raises(KeyError):
        deduction_for("province")


@pytest.mark.parametrize("channel, level", [
    ("web", "outlet"), ("walk_in", "outlet"), ("phone", "outlet"), ("comment_book", "outlet"),
    ("referral", "branch"), ("media", "media"),
])
def test_level_of_channel(channel, level):
    assert level_of_channel(channel) == level


def test_two_transfers_are_buck_passing_one_is_not():
    assert [is_buck_passing(n) for n in range(4)] == [False, False, True, True]


# --- measures ---------------------------------------------------------------------------------

NOW = at(12, day=date(2026, 12, 31))
DUE = at(10)


def facts(responded=DUE, decided=None, finding=None, callback=None, first_contact=False,
          response_due=DUE, decision_due_at=DUE + timedelta(days=15)) -> ComplaintFacts:
    return ComplaintFacts(response_due=response_due, responded_at=responded,
                          decision_due=decision_due_at, decided_at=decided, finding=finding,
                          callback=callback, first_contact_resolved=first_contact)


def test_no_complaints_no_rates():
    measures = measure([], 5000, NOW)
    assert measures.complaints == 0 and measures.per_10k == 0
    assert measures.response_rate is None and measures.decision_rate is None
    assert measures.first_contact_rate is None and measures.upheld_rate is None
    assert measures.satisfaction_rate is None
    empty = measure([], 0, NOW)
    assert empty.per_10k is None


def test_complaints_per_10k_transactions():
    three = [facts(), facts(), facts()]
    assert measure(three, 20000, NOW).per_10k == F(3, 2)
    assert measure(three, 0, NOW).per_10k is None


def test_a_response_still_inside_its_hour_is_neither_on_time_nor_late():
    now = DUE - timedelta(minutes=10)
    waiting = facts(responded=None, decision_due_at=DUE + timedelta(days=15))
    measures = measure([waiting], 100, now)
    assert (measures.responses_due, measures.response_on_time) == (0, 0)
    assert measures.response_rate is None
    # at the due moment itself it is not yet counted; one second later it is, as late
    assert measure([waiting], 100, DUE).responses_due == 0
    late = measure([waiting], 100, DUE + timedelta(seconds=1))
    assert (late.responses_due, late.response_on_time) == (1, 0)
    assert late.response_rate == 0


def test_response_and_decision_on_time_and_late():
    received = DUE - timedelta(hours=1)
    decision = DUE + timedelta(days=15)
    items = [
        facts(responded=received + timedelta(minutes=30), decided=decision, finding="upheld"),
        facts(responded=DUE, decided=decision + timedelta(seconds=1), finding="not_upheld"),
        facts(responded=DUE + timedelta(minutes=1), decided=None),  # decision clock ran out
        facts(responded=DUE + timedelta(hours=3), decided=None,
              decision_due_at=NOW + timedelta(days=1)),  # decision clock still running
    ]
    measures = measure(items, 1000, NOW)
    assert (measures.response_on_time, measures.responses_due) == (2, 4)
    assert measures.response_rate == F(1, 2)
    assert (measures.decision_on_time, measures.decisions_due) == (1, 3)
    assert measures.decision_rate == F(1, 3)


def test_first_contact_resolution_counts_decided_complaints_only():
    items = [facts(decided=DUE, finding="upheld", first_contact=True),
             facts(decided=DUE, finding="not_upheld", first_contact=False),
             facts(decided=DUE, finding="partly", first_contact=True),
             facts(decided=None, finding=None, first_contact=True)]
    measures = measure(items, 1000, NOW)
    assert (measures.first_contact_resolved, measures.decided) == (2, 3)
    assert measures.first_contact_rate == F(2, 3)


def test_upheld_includes_partly_upheld():
    items = [facts(decided=DUE, finding="upheld"), facts(decided=DUE, finding="partly"),
             facts(decided=DUE, finding="not_upheld"), facts(decided=DUE, finding="not_upheld"),
             facts()]
    measures = measure(items, 1000, NOW)
    assert (measures.upheld, measures.decided) == (2, 4)
    assert measures.upheld_rate == F(1, 2)


def test_callback_satisfaction_counts_satisfied_and_basic():
    items = [facts(decided=DUE, finding="upheld", callback="satisfied"),
             facts(decided=DUE, finding="upheld", callback="basic"),
             facts(decided=DUE, finding="upheld", callback="unsatisfied"),
             facts(decided=DUE, finding="not_upheld", callback=None)]
    measures = measure(items, 1000, NOW)
    assert (measures.satisfied_callbacks, measures.callbacks) == (2, 3)
    assert measures.satisfaction_rate == F(2, 3)
