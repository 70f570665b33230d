"""What each role's home page shows, each in a bounded number of queries."""
from datetime import timedelta

from sqlalchemy import func, select

from ...extensions import db
from ...models import MANAGER, OUTLET_ROLES, OrgUnit, Person
from ...permissions import scoped_people, scoped_units
from ...timeutil import local_today
from ..admin.queries import audit_lines

RECENT_DAYS = 7  # the admin's home shows the history of the last week
ROLE_ORDER = {role: index for index, role in enumerate((MANAGER, "lobby_manager", "teller"))}


def outlet_staff(outlet: OrgUnit) -> list[Person]:
    """Everyone working at ``outlet``, manager first, then by work number."""
    people = db.session.scalars(
        select(Person).where(Person.org_unit_id == outlet.id, Person.role.in_(OUTLET_ROLES))
    ).all()
    return sorted(people, key=lambda p: (not p.active, ROLE_ORDER.get(p.role, 9), p.work_no))


def outlets_overview(user: Person) -> list[dict]:
    """The outlets in the user's subtree with active staff counts and manager names."""
    staff_count = (
        select(Person.org_unit_id, func.count(Person.id).label("staff"))
        .where(Person.active.is_(True))
        .group_by(Person.org_unit_id)
        .subquery()
    )
    rows = db.session.execute(
        scoped_units(select(OrgUnit, staff_count.c.staff), user)
        .outerjoin(staff_count, staff_count.c.org_unit_id == OrgUnit.id)
        .where(OrgUnit.kind == "outlet")
        .order_by(OrgUnit.path)
    ).all()
    managers = {
        p.org_unit_id: p
        for p in db.session.scalars(
            scoped_people(select(Person), user).where(Person.role == MANAGER, Person.active.is_(True))
        )
    }
    return [
        {"unit": unit, "staff": staff or 0, "manager": managers.get(unit.id)} for unit, staff in rows
    ]


def admin_summary(user: Person) -> dict:
    """Counts of units, people and active accounts in the admin's subtree, and recent history."""
    units = db.session.scalar(scoped_units(select(func.count(OrgUnit.id)), user))
    people = db.session.execute(
        scoped_people(select(Person.active, func.count(Person.id)), user).group_by(Person.active)
    ).all()
    by_state = {active: count for active, count in people}
    today = local_today()
    recent = db.session.scalars(audit_lines(
        user, days=(today - timedelta(days=RECENT_DAYS - 1), today)).limit(10)).all()
    return {
        "units": units,
        "active": by_state.get(True, 0),
        "inactive": by_state.get(False, 0),
        "recent": recent,
    }
