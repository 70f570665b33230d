"""Rules for org units and people: used by the admin pages, the CSV imports and the demo seed.

Each public function that changes data is one transaction: it commits, or raises DomainError
(with the form field to blame) before anything is written.
"""
import re
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...audit import record
from ...errors import DomainError
from ...extensions import db
from ...models import KIND_RANK, KINDS, OUTLET_ROLES, ROLES, OrgUnit, Person, person_by_work_no, unit_by_code
from ...signals import unit_saved

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
WORK_NO_RE = re.compile(r"^[A-Za-z0-9]{2,20}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 64


# --- pure checks, shared by forms and imports -------------------------------------------

def code_problem(code: str) -> str | None:
    """Why ``code`` can't be an org-unit code, or None."""
    if not CODE_RE.fullmatch(code or ""):
        return str(_l("机构代码须为 1–20 位字母、数字或连字符。"))
    return None


def parent_problem(kind: str, parent_kind: str | None) -> str | None:
    """Why a unit of ``kind`` can't hang under a unit of ``parent_kind``, or None."""
    if kind not in KINDS:
        return str(_l("机构类型无效。"))
    if parent_kind is None:
        return None if kind == "bank" else str(_l("除总行外,机构必须有上级机构。"))
    if kind == "bank":
        return str(_l("总行不能有上级机构。"))
    if parent_kind not in KIND_RANK:
        return str(_l("机构类型无效。"))
    if KIND_RANK[parent_kind] >= KIND_RANK[kind]:
        return str(_l("上级机构的层级必须高于本机构。"))
    return None


def windows_problem(kind: str, windows: int) -> str | None:
    """Why ``windows`` is wrong for a unit of ``kind``, or None."""
    if kind != "outlet" and windows:
        return str(_l("只有网点才有窗口。"))
    if not 0 <= windows <= 99:
        return str(_l("窗口数须在 0–99 之间。"))
    return None


def work_no_problem(work_no: str) -> str | None:
    """Why ``work_no`` can't be a work number, or None."""
    if not WORK_NO_RE.fullmatch(work_no or ""):
        return str(_l("工号须为 2–20 位字母或数字。"))
    return None


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None."""
    if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
        return str(_l("密码长度须为 8–64 个字符。"))
    return None


def placement_problem(role: str, unit_kind: str) -> str | None:
    """Why a person of ``role`` can't belong to a unit of ``unit_kind``, or None."""
    if role not in ROLES:
        return str(_l("岗位无效。"))
    if role in OUTLET_ROLES and unit_kind != "outlet":
        return str(_l("柜员、大堂经理和网点负责人必须属于某个网点。"))
    return None


# --- org units --------------------------------------------------------------------------

def build_unit(code: str, name: str, kind: str, parent: OrgUnit | None, windows: int) -> OrgUnit:
    """Check and add a new unit to the session (no commit); raise DomainError on a bad value."""
    code = code.strip().upper()
    for field, problem in (
        ("code", code_problem(code)),
        ("kind", parent_problem(kind, parent.kind if parent else None)),
        ("windows", windows_problem(kind, windows)),
    ):
        if problem:
            raise DomainError(problem, field=field)
    if unit_by_code(code) is not None:
        raise DomainError(_l("机构代码已存在。"), field="code")
    unit = OrgUnit(code=code, name=name.strip(), kind=kind, windows=windows)
    unit.set_parent(parent)
    db.session.add(unit)
    db.session.flush()
    record("org_unit.created", unit, code=code, name=unit.name, kind=kind, windows=windows)
    unit_saved.send(unit)
    return unit


def create_unit(code: str, name: str, kind: str, parent: OrgUnit | None, windows: int) -> OrgUnit:
    """Create an org unit (one transaction)."""
    unit = build_unit(code, name, kind, parent, windows)
    db.session.commit()
    return unit


def change_unit(unit: OrgUnit, name: str, parent: OrgUnit | None, windows: int) -> None:
    """Rename, move or resize a unit without committing; moving carries its subtree along."""
    problem = parent_problem(unit.kind, parent.kind if parent else None)
    if parent is not None and unit.contains(parent):
        problem = str(_l("不能把机构移到它自己的下级机构之下。"))
    if problem:
        raise DomainError(problem, field="parent")
    if problem := windows_problem(unit.kind, windows):
        raise DomainError(problem, field="windows")
    before = {"name": unit.name, "parent": unit.parent.code if unit.parent else None,
              "windows": unit.windows}
    old_path = unit.path
    unit.name, unit.windows = name.strip(), windows
    unit.set_parent(parent)
    if unit.path != old_path:
        _move_subtree(old_path, unit.path)
    after = {"name": unit.name, "parent": parent.code if parent else None, "windows": windows}
    if before != after:
        record("org_unit.changed", unit, before=before, after=after)
        unit_saved.send(unit)


def update_unit(unit: OrgUnit, name: str, parent: OrgUnit | None, windows: int) -> None:
    """Rename, move or resize a unit (one transaction)."""
    change_unit(unit, name, parent, windows)
    db.session.commit()


def _move_subtree(old_path: str, new_path: str) -> None:
    descendants = db.session.scalars(
        select(OrgUnit).where(OrgUnit.path.startswith(old_path, autoescape=True),
                              OrgUnit.path != old_path)
    )
    for child in descendants:
        child.path = new_path + child.path[len(old_path):]


# --- people -----------------------------------------------------------------------------

def build_person(work_no: str, name: str, role: str, unit: OrgUnit, joined_on: date,
                 password: str) -> Person:
    """Check and add a new person to the session (no commit); raise DomainError on a bad value."""
    work_no = work_no.strip().upper()
    for field, problem in (
        ("work_no", work_no_problem(work_no)),
        ("role", placement_problem(role, unit.kind)),
        ("password", password_problem(password)),
    ):
        if problem:
            raise DomainError(problem, field=field)
    if person_by_work_no(work_no) is not None:
        raise DomainError(_l("工号已存在。"), field="work_no")
    person = Person(work_no=work_no, name=name.strip(), role=role, org_unit=unit,
                    joined_on=joined_on)
    person.set_password(password)
    db.session.add(person)
    db.session.flush()
    record("person.created", person, work_no=work_no, name=person.name, role=role,
           unit=unit.code, joined_on=joined_on)
    return person


def create_person(work_no: str, name: str, role: str, unit: OrgUnit, joined_on: date,
                  password: str) -> Person:
    """Create a person with a sign-in account (one transaction)."""
    person = build_person(work_no, name, role, unit, joined_on, password)
    db.session.commit()
    return person


def change_person(person: Person, name: str, role: str, unit: OrgUnit, joined_on: date) -> None:
    """Change a person's details without committing."""
    if problem := placement_problem(role, unit.kind):
        raise DomainError(problem, field="role")
    before = {"name": person.name, "role": person.role, "unit": person.org_unit.code,
              "joined_on": person.joined_on}
    person.name, person.role, person.org_unit, person.joined_on = name.strip(), role, unit, joined_on
    after = {"name": person.name, "role": role, "unit": unit.code, "joined_on": joined_on}
    if before != after:
        if before["role"] != role or before["unit"] != unit.code:
            person.end_sessions()  # new role or outlet: sign in again to get the new rights
        record("person.changed", person, before=before, after=after)


def update_person(person: Person, name: str, role: str, unit: OrgUnit, joined_on: date) -> None:
    """Change a person's details (one transaction)."""
    change_person(person, name, role, unit, joined_on)
    db.session.commit()


def set_active(person: Person, active: bool, actor: Person | None = None) -> None:
    """Activate or deactivate a person; deactivation ends every session. People are never deleted."""
    if actor is not None and actor.id == person.id and not active:
        raise DomainError(_l("不能停用自己的账户。"))
    if person.active == active:
        return
    person.active = active
    if not active:
        person.end_sessions()
    record("person.activated" if active else "person.deactivated", person)
    db.session.commit()


def reset_password(person: Person, password: str) -> None:
    """Set a new password for a person (admin action); ends their sessions and lifts a lock."""
    if problem := password_problem(password):
        raise DomainError(problem, field="password")
    person.set_password(password)
    person.failed_logins = 0
    person.locked_until = None
    record("person.password_reset", person)
    db.session.commit()


def set_photo(person: Person, filename: str | None) -> None:
    """Record the stored photo file of a person (one transaction)."""
    person.photo = filename
    record("person.photo_changed", person, photo=filename)
    db.session.commit()
