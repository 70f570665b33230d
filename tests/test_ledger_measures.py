"""The ledger's 季度积分净变动 (net points of a period) and its place in the ratings measures."""
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from portal.blueprints.ledger import measures, services
from portal.blueprints.ratings import services as ratings_services
from portal.extensions import db
from portal.periods import month, quarter

from .conftest import person

NOW = datetime(2026, 10, 1, 2, 0)
Q3 = quarter(2026, 3)


def confirmed(work_no, code, day, **amounts):
    made = services.record(person(work_no), code, day, NOW, **amounts)
    services.confirm(made, None, NOW)
    return made


def history():
    """T1001 and T1002 in and around 2026Q3; M0001 charged for their deductions."""
    confirmed("T1001", "R04", date(2026, 6, 30))  # the day before the quarter
    confirmed("T1001", "R04", date(2026, 7, 1))  # doubled by the one before: −2
    confirmed("T1001", "A03", date(2026, 8, 15))  # +2
    confirmed("T1001", "R19", date(2026, 9, 30), points=Decimal(-3), money=Decimal(300))
    confirmed("T1001", "R05", date(2026, 10, 1))  # the day after
    revoked = confirmed("T1002", "R12", date(2026, 8, 1))
    services.revoke(revoked, None, "录入错误", NOW)
    services.record(person("T1002"), "R12", date(2026, 8, 2), NOW)  # proposed only
    confirmed("T1002", "A01", date(2026, 9, 1))  # +1
    db.session.commit()


def test_net_points_sum_the_confirmed_entries_dated_inside_the_period(app, count_queries):
    history()
    ids = [person(w).id for w in ("T1001", "T1002", "T1003", "M0001")]
    with count_queries() as statements:
        found = measures.net_points(ids, Q3)
    assert len(statements) == 1
    t1001, t1002, _, m0001 = ids
    # T1001: −2 (doubled R04) + 2 (A03) − 3 (R19); T1002: +1, the revoked and the proposed
    # entries left out; M0001: the charges of T1001's deductions, −1 and −1.5; T1003: nothing
    assert found == {t1001: -3.0, t1002: 1.0, m0001: -2.5}
    assert measures.net_points(ids, month(2026, 7)) == {t1001: -2.0, m0001: -1.0}
    assert measures.net_points([], Q3) == {}


def test_the_ratings_measures_carry_the_net_points(app):
    history()
    assert measures.net_points_over in ratings_services.NET_POINTS_SOURCES
    t1001, t1002, t1003 = (person(w).id for w in ("T1001", "T1002", "T1003"))
    found = ratings_services.measures_for([t1001, t1002, t1003], Q3)
    assert found[t1001].net_points == Fraction(-3)
    assert found[t1002].net_points == Fraction(1)
    assert found[t1003].net_points == 0
    by_period = ratings_services.measures_over([t1001], [Q3, month(2026, 10)])
    assert by_period["2026-10"][t1001].net_points == Fraction(-1)


def test_net_points_move_the_projected_star_level(app):
    """On every other ★★★★★ boundary, the ledger's net points decide the level."""
    history()
    ids = [person(w).id for w in ("T1001", "T1002")]
    found = ratings_services.measures_for(ids, Q3)
    five = ratings_services.Measures(ratings=200, stars=960, satisfied=199, transactions=210,
                                     working_days=60, on_days=60, complaints_upheld=0)
    t1001, t1002 = (replace(five, net_points=found[pid].net_points) for pid in ids)
    assert ratings_services.star_level(t1002) == 5  # +1 point
    assert ratings_services.star_level(t1001) == 3  # −3 points: ★★★ allows down to −3
