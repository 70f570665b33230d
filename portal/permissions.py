"""Role and data-scope checks, used by views (403/404) and templates (hide what can't be used)."""
from functools import wraps
from typing import NamedTuple

from flask import abort, request
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from .extensions import db
from .models import ADMIN, LOBBY, MANAGER, OFFICE, OUTLET_ROLES, TELLER, OrgUnit, Person

STAFF_ROLES = (TELLER, LOBBY, MANAGER, OFFICE, ADMIN)


def role_required(*roles: str):
    """Allow the view only to signed-in people with one of ``roles``; others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def scope_unit(user: Person) -> OrgUnit:
    """Return the org unit whose subtree ``user`` may see."""
    return user.org_unit


def in_scope(user: Person, unit: OrgUnit) -> bool:
    """True when ``unit`` lies inside the part of the tree ``user`` may see."""
    return scope_unit(user).contains(unit)


def can_see_person(user: Person, person: Person) -> bool:
    """Tellers and lobby managers see themselves; managers their outlet; office/admin a subtree."""
    if user.id == person.id:
        return True
    if user.role in (TELLER, LOBBY):
        return False
    return in_scope(user, person.org_unit)


def can_manage_accounts(user: Person) -> bool:
    return user.is_authenticated and user.role == ADMIN


def is_outlet_staff(user: Person) -> bool:
    return user.role in OUTLET_ROLES


def scoped_units(query: Select, user: Person) -> Select:
    """Narrow a query over OrgUnit to the user's subtree."""
    return query.where(OrgUnit.path.startswith(scope_unit(user).path, autoescape=True))


def scoped_people(query: Select, user: Person) -> Select:
    """Narrow a query over Person (joined to OrgUnit) to the user's subtree."""
    return query.join(Person.org_unit).where(
        OrgUnit.path.startswith(scope_unit(user).path, autoescape=True)
    )


def get_person_or_404(person_id: int) -> Person:
    """Return the person if the current user may see them; 404 otherwise (never 403)."""
    person = db.session.get(Person, person_id)
    if person is None or not can_see_person(current_user, person):
        abort(404)
    return person


def get_unit_or_404(unit_id: int) -> OrgUnit:
    """Return the org unit if it lies in the current user's subtree; 404 otherwise."""
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or not in_scope(current_user, unit):
        abort(404)
    return unit


class OutletScope(NamedTuple):
    """The outlet a page is about, and the service office's choice of outlets."""

    outlet: OrgUnit
    outlets: list[OrgUnit]  # the service office's outlets to choose from; empty for outlet staff

    @property
    def args(self) -> dict:
        """Query-string arguments that keep the chosen outlet on links."""
        return {"outlet": self.outlet.code} if self.outlets else {}


def outlet_scope() -> OutletScope:
    """The viewer's own outlet, or for the service office ``?outlet=CODE`` inside its subtree
    (its first outlet when none is named); an outlet outside the viewer's scope is 404."""
    code = (request.args.get("outlet") or "").strip().upper()
    if current_user.role != OFFICE:
        if code and code != current_user.org_unit.code:
            abort(404)
        return OutletScope(current_user.org_unit, [])
    outlets = list(db.session.scalars(scoped_units(select(OrgUnit), current_user)
                                      .where(OrgUnit.kind == "outlet").order_by(OrgUnit.path)))
    chosen = [unit for unit in outlets if unit.code == code or not code]
    if not chosen:
        abort(404)
    return OutletScope(chosen[0], outlets)
