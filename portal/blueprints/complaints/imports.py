"""CSV import of historical, already decided complaints (``import-complaints``).

Each row becomes a closed complaint marked ``historical``: its clocks are computed from the
time of receipt with the rules, it was answered, decided and closed at that moment, and it
proposes no deduction. The people found responsible count in the upheld-complaint measures.
"""
import json
from datetime import date, timedelta

from sqlalchemy import and_, func, select

from ...database import bulk_insert
from ...extensions import db
from ...imports import Importer, RowProblem, local_date_or_time
from ...models import OUTLET_ROLES, OrgUnit, Person
from ...timeutil import utcnow
from .models import (CATEGORIES, CHANNELS, CLOSED, FINDINGS, LEVELS, Complaint, ComplaintEvent,
                     complaint_responsible)
from .services import (RESPONSE_HOURS, UPHELD_FINDINGS, business_deadline, decision_due,
                       local_naive, stored, ticket_number)

COMPLAINT_COLUMNS = ("received_at", "outlet_code", "channel", "category", "responsible_work_no",
                     "finding", "level")
DESCRIPTION = "历史投诉(导入)"


def _prepare(rows: list[dict]) -> dict:
    """Outlets by code, outlet staff by work number, and the local time now."""
    outlets = db.session.execute(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.kind == "outlet"))
    people = db.session.execute(
        select(Person.work_no, Person.id, Person.org_unit_id).where(Person.role.in_(OUTLET_ROLES)))
    return {"outlets": {code.upper(): oid for code, oid in outlets},
            "people": {work_no.upper(): (pid, unit) for work_no, pid, unit in people},
            "now": local_naive(utcnow())}


def _one_of(row: dict, column: str, values: tuple[str, ...], label: str) -> str:
    value = row[column]
    if value not in values:
        raise RowProblem(f"{label} {value!r} 无效,可选 {', '.join(values)} (bad {column})")
    return value


def _check(row: dict, context: dict) -> dict:
    local = local_date_or_time(row["received_at"], context["now"], "受理时间", "received_at",
                               with_time=True)
    code = row["outlet_code"].upper()
    outlet_id = context["outlets"].get(code)
    if outlet_id is None:
        raise RowProblem(f"网点代码 {row['outlet_code']!r} 不存在或不是网点 (unknown outlet_code)")
    channel = _one_of(row, "channel", CHANNELS, "投诉渠道")
    category = _one_of(row, "category", CATEGORIES, "投诉类别")
    finding = _one_of(row, "finding", FINDINGS, "调查结论")
    level = _one_of(row, "level", LEVELS, "投诉层级")
    responsible = None
    if work_no := row["responsible_work_no"].upper():
        found = context["people"].get(work_no)
        if found is None or found[1] != outlet_id:
            raise RowProblem(f"责任人 {row['responsible_work_no']!r} 不是网点 {code} 的人员 "
                             f"(responsible_work_no is not a person of that outlet)")
        responsible = (found[0], work_no)
    return {"local": local, "received_at": stored(local), "outlet_id": outlet_id,
            "channel": channel, "category": category, "finding": finding, "level": level,
            "responsible": responsible}


def _next_sequences(first: date, last: date) -> dict[str, int]:
    """The last ticket sequence already given on each local day, by ticket prefix (one query)."""
    prefix = func.substr(Complaint.ticket, 1, 10)
    taken = db.session.execute(
        select(prefix, func.max(Complaint.ticket)).where(_day_range(first, last))
        .group_by(prefix))
    return {day_prefix: int(ticket.rsplit("-", 1)[1]) for day_prefix, ticket in taken}


def _day_range(first: date, last: date):
    """A condition on the ticket for the local days ``first`` to ``last``."""
    return and_(Complaint.ticket >= ticket_number(first, 0)[:10],
                Complaint.ticket < ticket_number(last + timedelta(days=1), 0)[:10])


def _ids_by_ticket(first: date, last: date) -> dict[str, int]:
    """Complaint ids by ticket over the days (one query; a plain multi-row INSERT is much
    faster than INSERT … RETURNING of as many rows on PostgreSQL)."""
    return dict(db.session.execute(
        select(Complaint.ticket, Complaint.id).where(_day_range(first, last))).tuples().all())


def _apply(plans: list[dict]) -> None:
    if not plans:
        return
    now = utcnow()
    plans = sorted(plans, key=lambda plan: plan["local"])  # numbers follow the clock
    first, last = plans[0]["local"].date(), plans[-1]["local"].date()
    sequences = _next_sequences(first, last)
    rows = []
    for plan in plans:
        received = plan["received_at"]
        day = plan["local"].date()
        prefix = ticket_number(day, 0)[:10]
        sequences[prefix] = sequences.get(prefix, 0) + 1
        rows.append({
            "ticket": ticket_number(day, sequences[prefix]), "channel": plan["channel"],
            "outlet_id": plan["outlet_id"], "window_number": None, "subject_id": None,
            "category": plan["category"], "description": DESCRIPTION, "customer_name": "",
            "customer_phone": "", "level": plan["level"], "received_at": received,
            "recorded_by_id": None, "first_owner_id": None, "handler_id": None,
            "status": CLOSED, "response_due": business_deadline(received, RESPONSE_HOURS),
            "responded_at": received, "decision_due": decision_due(received),
            "extension_reason": "", "decided_at": received, "decided_by_id": None,
            "finding": plan["finding"], "callback": None, "callback_at": None,
            "closed_at": received, "transfers": 0, "transfer_to_id": None,
            "transfer_from_id": None, "transfer_due": None, "reopened": 0,
            "response_escalated": False, "decision_escalated": False,
            "source_rating_id": None, "historical": True, "version": 1,
        })
    bulk_insert(Complaint.__table__, rows)
    ids = _ids_by_ticket(first, last)
    events, links = [], []
    for row, plan in zip(rows, plans):
        complaint_id = ids[row["ticket"]]
        linked = plan["responsible"] if plan["finding"] in UPHELD_FINDINGS else None
        if linked:
            links.append({"complaint_id": complaint_id, "person_id": linked[0]})
        details = {"finding": plan["finding"], "level": plan["level"],
                   "responsible": [linked[1]] if linked else []}
        events.append({"complaint_id": complaint_id, "at": now, "actor_id": None,
                       "action": "import", "public": False, "text": DESCRIPTION,
                       "details": json.dumps(details, ensure_ascii=False, sort_keys=True)})
    bulk_insert(ComplaintEvent.__table__, events)
    bulk_insert(complaint_responsible, links)


COMPLAINT_IMPORTER = Importer("complaints", COMPLAINT_COLUMNS, _check, _apply, _prepare)
