"""What the admin pages read: each list in a bounded number of queries, inside the admin's scope."""
from datetime import date

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select

from ...extensions import db
from ...models import AuditEvent, OrgUnit, Person
from ...permissions import scope_unit, scoped_people, scoped_units
from ...timeutil import utc_span
from ..api.models import ApiToken

HISTORY_LIMIT = 50
MAX_PAGE = 100_000


def page_number(raw: int | None) -> int:
    """A page number from the query string, kept within 1..MAX_PAGE."""
    return min(max(raw or 1, 1), MAX_PAGE)


def unit_tree(user: Person) -> list[OrgUnit]:
    """The units of the user's subtree in tree order (paths compared alike on every backend)."""
    units = db.session.scalars(scoped_units(select(OrgUnit), user)).all()
    return sorted(units, key=lambda unit: unit.path)


def parent_options(user: Person, unit: OrgUnit) -> list[OrgUnit]:
    """Units ``unit`` may hang under: the user's subtree outside its own, plus its parent."""
    options = [other for other in unit_tree(user) if not unit.contains(other)]
    if unit.parent is not None and unit.parent not in options:
        options.insert(0, unit.parent)
    return options


def people_page(user: Person, *, q: str | None, role: str | None, status: str, page: int,
                per_page: int) -> Pagination:
    """One page of the people in the user's subtree, filtered, ordered by work number."""
    query = scoped_people(select(Person), user).order_by(Person.work_no)
    if q:
        query = query.where(or_(Person.work_no.icontains(q, autoescape=True),
                                Person.name.icontains(q, autoescape=True)))
    if role:
        query = query.where(Person.role == role)
    if status != "all":
        query = query.where(Person.active.is_(status == "active"))
    return db.paginate(query, page=page, per_page=per_page, max_per_page=per_page, error_out=False)


def person_history(person: Person) -> list[AuditEvent]:
    """The latest audit lines about ``person``, newest first."""
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "Person", AuditEvent.object_id == str(person.id))
        .order_by(AuditEvent.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()


def audit_lines(user: Person, *, days: tuple[date, date], action: str | None = None,
                actor: str | None = None):
    """The history of the user's subtree and of unplaced objects on the local ``days``
    (first, last), newest first, as a query."""
    start, end = utc_span(*days)
    query = (
        select(AuditEvent)
        .outerjoin(OrgUnit, AuditEvent.org_unit_id == OrgUnit.id)
        .where(AuditEvent.at >= start, AuditEvent.at < end,
               or_(AuditEvent.org_unit_id.is_(None),
                   OrgUnit.path.startswith(scope_unit(user).path, autoescape=True)))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEvent.actor.has(Person.work_no == actor.upper()))
    return query


def audit_page(user: Person, *, days: tuple[date, date], action: str | None, actor: str | None,
               page: int, per_page: int) -> Pagination:
    """One page of ``audit_lines``."""
    return db.paginate(audit_lines(user, days=days, action=action, actor=actor), page=page,
                       per_page=per_page, max_per_page=per_page, error_out=False)


def all_tokens() -> list[ApiToken]:
    """Every API token, newest first (revoked ones stay for the record)."""
    return db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).all()


def token_or_none(token_id: int) -> ApiToken | None:
    """The API token with ``token_id``, or None."""
    return db.session.get(ApiToken, token_id)
