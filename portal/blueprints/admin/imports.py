"""CSV imports of the organisation and the staff (``import-org``, ``import-staff``)."""
import re
from dataclasses import dataclass
from datetime import date

from ...extensions import db
from ...imports import Importer, RowProblem
from ...models import KIND_RANK, KINDS, OrgUnit, Person, person_by_work_no, unit_by_code
from . import services

ORG_COLUMNS = ("code", "name", "kind", "parent_code", "windows")
STAFF_COLUMNS = ("work_no", "name", "role", "outlet_code", "joined_on", "password")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass
class OrgRow:
    code: str
    name: str
    kind: str
    parent_code: str
    windows: int


def _org_prepare(rows: list[dict]) -> dict:
    codes = [row["code"].upper() for row in rows]
    return {
        "codes": set(codes),
        # only valid kinds: a row with an unknown kind is refused and can parent nothing
        "kinds": {row["code"].upper(): row["kind"] for row in rows if row["kind"] in KINDS},
        "duplicates": {code for code in codes if codes.count(code) > 1},
    }


def _org_check(row: dict, context: dict) -> OrgRow:
    code, kind, parent_code = row["code"].upper(), row["kind"], row["parent_code"].upper()
    if problem := services.code_problem(code):
        raise RowProblem(problem)
    if code in context["duplicates"]:
        raise RowProblem(f"机构代码 {code} 在文件中重复 (duplicate code)")
    if not row["name"] or len(row["name"]) > 80:
        raise RowProblem("机构名称须为 1–80 个字符 (name required, at most 80 characters)")
    if kind not in KINDS:
        raise RowProblem(f"机构类型 {kind!r} 无效,可选 {', '.join(KINDS)} (unknown kind)")
    windows = _windows(row["windows"])
    if problem := services.windows_problem(kind, windows):
        raise RowProblem(problem)
    parent_kind = None
    if parent_code:
        if parent_code in context["codes"] and parent_code not in context["kinds"]:
            raise RowProblem(f"上级机构 {parent_code} 所在行有误 (parent_code's own row is invalid)")
        existing = unit_by_code(parent_code)
        parent_kind = context["kinds"].get(parent_code) or (existing.kind if existing else None)
        if parent_kind is None:
            raise RowProblem(f"上级机构 {parent_code} 不存在 (unknown parent_code)")
    if problem := services.parent_problem(kind, parent_kind):
        raise RowProblem(problem)
    current = unit_by_code(code)
    if current is not None and current.kind != kind:
        raise RowProblem(f"机构 {code} 已存在且类型为 {current.kind},不能改为 {kind} (kind can't change)")
    return OrgRow(code, row["name"], kind, parent_code, windows)


def _windows(value: str) -> int:
    if value == "":
        return 0
    if not value.isascii() or not value.isdigit():
        raise RowProblem(f"窗口数 {value!r} 不是整数 (windows must be a whole number)")
    return int(value)


def _org_apply(plans: list[OrgRow]) -> None:
    for plan in sorted(plans, key=lambda p: KIND_RANK[p.kind]):
        parent = unit_by_code(plan.parent_code) if plan.parent_code else None
        existing = unit_by_code(plan.code)
        if existing is None:
            services.build_unit(plan.code, plan.name, plan.kind, parent, plan.windows)
        else:
            services.change_unit(existing, plan.name, parent, plan.windows)
        db.session.flush()


ORG_IMPORTER = Importer("org", ORG_COLUMNS, _org_check, _org_apply, _org_prepare)


@dataclass
class StaffRow:
    work_no: str
    name: str
    role: str
    unit: OrgUnit
    joined_on: date
    password: str
    existing: Person | None


def _staff_prepare(rows: list[dict]) -> dict:
    numbers = [row["work_no"].upper() for row in rows]
    return {"duplicates": {n for n in numbers if numbers.count(n) > 1}}


def _staff_check(row: dict, context: dict) -> StaffRow:
    work_no = row["work_no"].upper()
    if problem := services.work_no_problem(work_no):
        raise RowProblem(problem)
    if work_no in context["duplicates"]:
        raise RowProblem(f"工号 {work_no} 在文件中重复 (duplicate work_no)")
    if not row["name"] or len(row["name"]) > 50:
        raise RowProblem("姓名须为 1–50 个字符 (name required, at most 50 characters)")
    unit = unit_by_code(row["outlet_code"].upper())
    if unit is None:
        raise RowProblem(f"机构 {row['outlet_code']!r} 不存在 (unknown outlet_code)")
    if problem := services.placement_problem(row["role"], unit.kind):
        raise RowProblem(f"{problem} (role {row['role']!r})")
    try:
        if not ISO_DATE.fullmatch(row["joined_on"]):
            raise ValueError("not YYYY-MM-DD")  # fromisoformat also takes 20260105, 2026-W02-1
        joined_on = date.fromisoformat(row["joined_on"])
    except ValueError:
        raise RowProblem(f"入职日期 {row['joined_on']!r} 应为 YYYY-MM-DD (bad joined_on)") from None
    existing = person_by_work_no(work_no)
    if existing is None or row["password"]:
        if problem := services.password_problem(row["password"]):
            raise RowProblem(problem)
    return StaffRow(work_no, row["name"], row["role"], unit, joined_on, row["password"], existing)


def _staff_apply(plans: list[StaffRow]) -> None:
    for plan in plans:
        if plan.existing is None:
            services.build_person(plan.work_no, plan.name, plan.role, plan.unit, plan.joined_on,
                                  plan.password)
            continue
        services.change_person(plan.existing, plan.name, plan.role, plan.unit, plan.joined_on)
        if plan.password:
            plan.existing.set_password(plan.password)


STAFF_IMPORTER = Importer("staff", STAFF_COLUMNS, _staff_check, _staff_apply, _staff_prepare)
