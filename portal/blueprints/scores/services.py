"""The outlets' quarterly service score (SPEC section 7).

The rules come first as pure functions on plain values (no app, no database); the stored scores
follow: the settings, the three check scores per outlet and quarter, the sub-branches'
management scores and bonuses, the complaint deduction and the ranking.

Decisions the SPEC leaves open, kept here in one place:

- Scores are Decimals. A check score, a management score and a bonus have at most one decimal.
  An outlet's or a sub-branch's score is computed exactly and rounded once, at the end, to
  0.01 (half up). With one-decimal inputs the outlet score is exact anyway.
- No floor: the score is the weighted checks minus the complaint deduction and may go below 0
  (the SPEC does not floor it, and a floor would rank an outlet with five upheld complaints
  level with one with fifteen).
- An upheld complaint that reached the branch or the media costs the higher amount (default
  5) instead of, not on top of, the ordinary one (default 2).
- When no check was done there is no score, whatever the deduction.
- Sub-branch: when none of its outlets has a score, its management score weighs 100 % (the
  same reweighting as when the management score is missing); with neither there is no score,
  whatever the bonuses. Bonuses are 0–10 points each.
- Ranking: highest score first; equal scores share a rank (1, 2, 2, 4); outlets without a
  score come last, unranked.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ... import concurrency
from ...audit import record as audit
from ...errors import Conflict
from ...extensions import db
from ...models import OrgUnit, Person
from ...periods import BadPeriod, Period, parse_quarter, quarter_of
from ...timeutil import utc_span
from .models import Inspection, ScoreEvent, ScoreSettings, SubbranchScore

D = Decimal
CHECKS = ("mystery", "offsite", "onsite")  # 神秘人暗访, 非现场监控检查, 现场明查
WEIGHTS = {"mystery": D("0.4"), "offsite": D("0.4"), "onsite": D("0.2")}
OUTLETS_SHARE, MANAGEMENT_SHARE = D("0.4"), D("0.6")
SCORE_MAX = D(100)
BONUS_MAX = D(10)
DEFAULT_PER_COMPLAINT, DEFAULT_PER_ESCALATED = D(2), D(5)
UPHELD_FINDINGS = ("upheld", "partly")
ESCALATED_LEVELS = ("branch", "media")
CENT = D("0.01")
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")  # ASCII digits only: no 1e2, no ８０
FIRST_YEAR, LAST_YEAR = 2000, 2100


# === pure rules ===============================================================================

class BadScore(ValueError):
    """A typed score is refused; ``reason`` is ``number``, ``range`` or ``places``."""

    def __init__(self, reason: str, high: Decimal):
        super().__init__(reason)
        self.reason, self.high = reason, high


def parse_score(text: str | None, high: Decimal = SCORE_MAX) -> Decimal | None:
    """A score typed as text: empty is None (not done); otherwise a plain decimal number
    0–``high`` with at most one decimal (``87.5``); anything else raises BadScore."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > 12 or not NUMBER.match(text):
        raise BadScore("number", high)
    value = Decimal(text)
    if value < 0 or value > high:
        raise BadScore("range", high)
    if value != value.quantize(D("0.1")):
        raise BadScore("places", high)
    return value.quantize(D("0.1"))


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def weights(done: tuple[str, ...]) -> dict[str, Decimal]:
    """The weight of each check done: 40/40/20 with all three; 50 % each of the two left when
    one is not done; 100 % for the one left when two are not done; none when none is done."""
    if len(done) == len(CHECKS):
        return dict(WEIGHTS)
    if not done:
        return {}
    return {name: D(1) / len(done) for name in done}


def complaint_deduction(upheld: int, escalated: int, per_complaint: Decimal = DEFAULT_PER_COMPLAINT,
                        per_escalated: Decimal = DEFAULT_PER_ESCALATED) -> Decimal:
    """``upheld``: the quarter's upheld or partly upheld complaints that stayed at the outlet;
    ``escalated``: those that reached the branch or the media (the higher amount, not both)."""
    return per_complaint * upheld + per_escalated * escalated


def outlet_score(mystery: Decimal | None, offsite: Decimal | None, onsite: Decimal | None,
                 deduction: Decimal = D(0)) -> Decimal | None:
    """score = 40 % mystery + 40 % off-site + 20 % on-site − deduction, reweighted for checks
    not done (None); None when no check was done. Not floored; rounded to 0.01."""
    values = {"mystery": mystery, "offsite": offsite, "onsite": onsite}
    done = tuple(name for name in CHECKS if values[name] is not None)
    if not done:
        return None
    share = weights(done)
    return cents(sum(values[name] * share[name] for name in done) - deduction)


def average(scores: list[Decimal | None]) -> Decimal | None:
    """The average of the scores there are (outlets without a score are left out)."""
    scored = [score for score in scores if score is not None]
    return sum(scored) / len(scored) if scored else None


def subbranch_score(outlet_scores: list[Decimal | None], management: Decimal | None,
                    innovation: Decimal = D(0), award: Decimal = D(0)) -> Decimal | None:
    """40 % × the outlets' average + 60 % × management + both bonuses; the outlets' average
    alone without a management score, the management score alone without any outlet score,
    None with neither. Rounded to 0.01."""
    mean = average(outlet_scores)
    if mean is None and management is None:
        return None
    if management is None:
        base = mean
    elif mean is None:
        base = management
    else:
        base = OUTLETS_SHARE * mean + MANAGEMENT_SHARE * management
    return cents(base + innovation + award)


def ranks(scores: list[Decimal | None]) -> list[int | None]:
    """Each score's rank, highest first, equal scores sharing one (1, 2, 2, 4); None unranked."""
    ordered = sorted((score for score in scores if score is not None), reverse=True)
    first: dict[Decimal, int] = {}
    for place, score in enumerate(ordered, start=1):
        first.setdefault(score, place)
    return [None if score is None else first[score] for score in scores]


def quarter_from(text: str | None, today: date) -> Period:
    """``?quarter=YYYYQn`` (years 2000–2100); the current quarter when none is given; raises
    BadPeriod when the text is no such quarter."""
    text = (text or "").strip()
    if not text:
        return quarter_of(today)
    if not text.isascii():  # periods.parse reads ２０２６ as 2026
        raise BadPeriod(text)
    period = parse_quarter(text.upper())
    if not FIRST_YEAR <= period.start.year <= LAST_YEAR:
        raise BadPeriod(text)
    return period


def recent_quarters(today: date, count: int = 8) -> list[Period]:
    """The current quarter and the ones before it, newest first."""
    found, current = [], quarter_of(today)
    for _ in range(count):
        found.append(current)
        current = quarter_of(current.start - timedelta(days=1))
    return found


def is_recordable(period: Period, today: date) -> bool:
    """Scores are recorded for the current quarter or an earlier one, never a later one."""
    return period.start <= today and period.start.year >= FIRST_YEAR


# === stored scores ============================================================================

STALE = _l("这些得分刚被其他人修改,请查看最新数值后重新填写。")


@dataclass
class Deduction:
    """The amounts in force, as plain values."""

    per_complaint: Decimal
    per_escalated: Decimal
    version: int = 0


@dataclass
class OutletResult:
    """One outlet's quarter: the checks, the complaints counted, the deduction and the score."""

    outlet: OrgUnit
    mystery: Decimal | None = None
    offsite: Decimal | None = None
    onsite: Decimal | None = None
    upheld: int = 0  # upheld or partly upheld, stayed at the outlet
    escalated: int = 0  # upheld or partly upheld, reached the branch or the media
    deduction: Decimal = D(0)
    score: Decimal | None = None
    rank: int | None = None
    version: int = 0

    @property
    def complaints(self) -> int:
        return self.upheld + self.escalated


@dataclass
class SubbranchResult:
    unit: OrgUnit
    outlets: int
    scored: int
    average: Decimal | None
    management: Decimal | None
    innovation: Decimal
    award: Decimal
    score: Decimal | None
    rank: int | None = None
    version: int = 0


def deduction_settings() -> Deduction:
    """The complaint deduction amounts the service office set (defaults 2 and 5)."""
    row = db.session.scalar(select(ScoreSettings).order_by(ScoreSettings.id).limit(1))
    if row is None:
        return Deduction(DEFAULT_PER_COMPLAINT, DEFAULT_PER_ESCALATED)
    return Deduction(row.per_complaint, row.per_escalated, row.version)


def _event(kind: str, unit: OrgUnit | None, quarter: str | None, action: str,
           actor: Person | None, now: datetime, **details) -> None:
    db.session.add(ScoreEvent(kind=kind, unit_id=unit.id if unit else None, quarter=quarter,
                              action=action, actor_id=actor.id if actor else None, at=now,
                              details=json.dumps(details, ensure_ascii=False, default=str)))


#: a concurrent change of the same scores, or a first recording of the same row at once
guarded = partial(concurrency.guarded, STALE, IntegrityError)


def save_settings(per_complaint: Decimal, per_escalated: Decimal, seen_version: int,
                  actor: Person | None, now: datetime) -> bool:
    """Set the deduction amounts; False when nothing changed; Conflict when the page was older
    than the last change."""
    row = db.session.scalar(select(ScoreSettings).order_by(ScoreSettings.id).limit(1))
    if (row.version if row else 0) != seen_version:
        raise Conflict(STALE)
    before = deduction_settings()
    if (before.per_complaint, before.per_escalated) == (per_complaint, per_escalated):
        return False
    if row is None:
        row = ScoreSettings()
        db.session.add(row)
    row.per_complaint, row.per_escalated = per_complaint, per_escalated
    row.changed_by_id, row.changed_at = (actor.id if actor else None), now
    db.session.flush()
    change = {"before": [before.per_complaint, before.per_escalated],
              "after": [per_complaint, per_escalated]}
    _event("settings", None, None, "changed", actor, now, **change)
    audit("scores.settings_changed", row, actor=actor, **change)
    return True


def complaint_counts(outlet_ids: list[int], period: Period) -> dict[int, tuple[int, int]]:
    """Per outlet: the complaints received in ``period`` (local days) upheld or partly upheld
    that stayed at the outlet, and those that reached the branch or the media (one query)."""
    from ..complaints.models import Complaint

    if not outlet_ids:
        return {}
    start, end = utc_span(period.start, period.end)
    counts = {outlet_id: [0, 0] for outlet_id in outlet_ids}
    for outlet_id, level, count in db.session.execute(
            select(Complaint.outlet_id, Complaint.level, func.count())
            .where(Complaint.outlet_id.in_(outlet_ids), Complaint.finding.in_(UPHELD_FINDINGS),
                   Complaint.received_at >= start, Complaint.received_at < end)
            .group_by(Complaint.outlet_id, Complaint.level)):
        counts[outlet_id][1 if level in ESCALATED_LEVELS else 0] += count
    return {outlet_id: (upheld, escalated) for outlet_id, (upheld, escalated) in counts.items()}


def counted_complaints(outlet: OrgUnit, period: Period) -> list:
    """The complaints of ``outlet`` that count in the quarter's deduction, oldest first."""
    from ..complaints.models import Complaint

    start, end = utc_span(period.start, period.end)
    return list(db.session.scalars(
        select(Complaint).where(Complaint.outlet_id == outlet.id,
                                Complaint.finding.in_(UPHELD_FINDINGS),
                                Complaint.received_at >= start, Complaint.received_at < end)
        .order_by(Complaint.received_at, Complaint.id)))


def inspections(outlet_ids: list[int], quarter: str) -> dict[int, Inspection]:
    if not outlet_ids:
        return {}
    return {row.outlet_id: row for row in db.session.scalars(
        select(Inspection).where(Inspection.quarter == quarter,
                                 Inspection.outlet_id.in_(outlet_ids)))}


def outlet_results(outlets: list[OrgUnit], period: Period,
                   amounts: Deduction | None = None) -> list[OutletResult]:
    """Each outlet's quarter, ranked among ``outlets``: ranked ones first (best first), then
    those without a score (by code). Three queries, whatever the number of outlets."""
    amounts = amounts or deduction_settings()
    ids = [outlet.id for outlet in outlets]
    stored_rows, counts = inspections(ids, period.label), complaint_counts(ids, period)
    results = []
    for outlet in outlets:
        row = stored_rows.get(outlet.id)
        upheld, escalated = counts.get(outlet.id, (0, 0))
        result = OutletResult(outlet, upheld=upheld, escalated=escalated,
                              deduction=complaint_deduction(upheld, escalated,
                                                            amounts.per_complaint,
                                                            amounts.per_escalated))
        if row is not None:
            result.mystery, result.offsite, result.onsite = row.mystery, row.offsite, row.onsite
            result.version = row.version
        result.score = outlet_score(result.mystery, result.offsite, result.onsite,
                                    result.deduction)
        results.append(result)
    for result, rank in zip(results, ranks([r.score for r in results])):
        result.rank = rank
    return sorted(results, key=lambda r: (r.rank is None, r.rank or 0, r.outlet.code))


def outlet_result(outlet: OrgUnit, period: Period) -> OutletResult:
    """One outlet's quarter (its rank is 1 or None: it is ranked alone)."""
    return outlet_results([outlet], period)[0]


def subbranch_rows(subbranches: list[OrgUnit], quarter: str) -> dict[int, SubbranchScore]:
    if not subbranches:
        return {}
    return {row.subbranch_id: row for row in db.session.scalars(
        select(SubbranchScore).where(SubbranchScore.quarter == quarter,
                                     SubbranchScore.subbranch_id.in_([u.id for u in subbranches])))}


def subbranch_results(subbranches: list[OrgUnit], outlets: list[OutletResult],
                      quarter: str) -> list[SubbranchResult]:
    """Each sub-branch's score from its outlets' results (those below it) and its own
    management score and bonuses, ranked; one query besides the outlets'."""
    stored_rows = subbranch_rows(subbranches, quarter)
    results = []
    for unit in subbranches:
        mine = [r.score for r in outlets if unit.contains(r.outlet)]
        row = stored_rows.get(unit.id)
        management = row.management if row else None
        innovation = row.innovation if row else D(0)
        award = row.award if row else D(0)
        results.append(SubbranchResult(
            unit, len(mine), sum(score is not None for score in mine), average(mine),
            management, innovation, award, subbranch_score(mine, management, innovation, award),
            version=row.version if row else 0))
    for result, rank in zip(results, ranks([r.score for r in results])):
        result.rank = rank
    return sorted(results, key=lambda r: (r.rank is None, r.rank or 0, r.unit.code))


def _values(row, names) -> dict:
    return {name: getattr(row, name) if row is not None else None for name in names}


def save_inspections(changes: dict[OrgUnit, tuple[dict, int | None]], quarter: str,
                     actor: Person | None, now: datetime, action: str = "recorded") -> int:
    """Store each outlet's three scores for ``quarter``; ``changes`` maps an outlet to its new
    values and the version the page showed (None: replace whatever is stored, as the import
    does). Rows whose values are unchanged are left alone. Returns how many changed; raises
    Conflict when a row changed since the page was shown (nothing of this call is kept once
    the caller rolls back)."""
    current = inspections([outlet.id for outlet in changes], quarter)
    changed = 0
    for outlet, (values, seen) in changes.items():
        row = current.get(outlet.id)
        _check_seen(row, seen)
        changed += _store(row, lambda: Inspection(outlet_id=outlet.id, quarter=quarter), outlet,
                          quarter, {name: values[name] for name in CHECKS},
                          _values(row, CHECKS), "inspection", action, actor, now)
    db.session.flush()
    return changed


def _check_seen(row, seen: int | None) -> None:
    """Conflict when the row changed since the page showed version ``seen`` (None: no check)."""
    if seen is not None and seen != (row.version if row else 0):
        raise Conflict(STALE)


def _store(row, new_row, unit: OrgUnit, quarter: str, values: dict, before: dict, kind: str,
           action: str, actor: Person | None, now: datetime) -> bool:
    """Write ``values`` into ``row`` (a new one from ``new_row()`` when None) with its history
    and audit line; False, and nothing written, when they equal ``before``."""
    if before == values:
        return False
    if row is None:
        row = new_row()
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.changed_by_id, row.changed_at = (actor.id if actor else None), now
    _event(kind, unit, quarter, action, actor, now, before=before, after=values)
    audit(f"scores.{kind}_{action}", row, actor=actor, in_unit=unit, quarter=quarter,
          before=before, after=values)
    return True


SUBBRANCH_FIELDS = ("management", "innovation", "award")


def save_subbranches(changes: dict[OrgUnit, tuple[dict, int]], quarter: str,
                     actor: Person | None, now: datetime) -> int:
    """Store each sub-branch's management score and bonuses for ``quarter`` (bonuses empty:
    0); as ``save_inspections`` for versions and unchanged rows."""
    current = subbranch_rows(list(changes), quarter)
    changed = 0
    for unit, (values, seen) in changes.items():
        values = {"management": values["management"],
                  "innovation": values["innovation"] or D(0), "award": values["award"] or D(0)}
        row = current.get(unit.id)
        _check_seen(row, seen)
        before = (_values(row, SUBBRANCH_FIELDS) if row is not None
                  else {"management": None, "innovation": D(0), "award": D(0)})
        changed += _store(row, lambda: SubbranchScore(subbranch_id=unit.id, quarter=quarter), unit,
                          quarter, values, before, "subbranch", "recorded", actor, now)
    db.session.flush()
    return changed


def units_in(scope: OrgUnit, kind: str) -> list[OrgUnit]:
    """The active units of ``kind`` in ``scope``'s subtree, in tree order (one query)."""
    return list(db.session.scalars(
        select(OrgUnit).where(OrgUnit.path.startswith(scope.path, autoescape=True),
                              OrgUnit.kind == kind, OrgUnit.active).order_by(OrgUnit.path)))
