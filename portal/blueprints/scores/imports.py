"""CSV import of inspection scores (``import-inspections``): ``outlet_code,quarter,mystery,
offsite,onsite``, e.g. the results the inspection teams deliver as a spreadsheet.

- ``quarter`` is ``YYYYQn`` (2000 onwards, not after the current quarter); an empty score
  means the check was not done; a score is 0–100 with at most one decimal.
- A row for an outlet and quarter already recorded replaces all three stored scores (an empty
  one included), as ``import-transactions`` replaces a day's count; the change is kept in the
  score history and the audit log like one made on the form.
- The same outlet and quarter twice in one file is refused (every such line is named): which
  of the two is meant can't be told.
"""
from collections import Counter

from sqlalchemy import select

from ...extensions import db
from ...imports import Importer, RowProblem
from ...models import OrgUnit
from ...periods import BadPeriod, parse_quarter
from ...timeutil import local_today, utcnow
from . import services

INSPECTION_COLUMNS = ("outlet_code", "quarter", "mystery", "offsite", "onsite")
LABELS = {"mystery": "神秘人暗访", "offsite": "非现场监控检查", "onsite": "现场明查"}
REASONS = {
    "number": "应为数字,未检查留空 (not a number)",
    "range": "应在 0 到 100 之间 (must be 0–100)",
    "places": "最多 1 位小数 (one decimal at most)",
}


def _key(row: dict) -> tuple[str, str]:
    return row["outlet_code"].upper(), row["quarter"].upper()


def _prepare(rows: list[dict]) -> dict:
    """Units by code (kind included), today, and the outlet+quarter pairs the file repeats."""
    units = db.session.execute(select(OrgUnit.code, OrgUnit.id, OrgUnit.kind))
    return {"units": {code.upper(): (unit_id, kind) for code, unit_id, kind in units},
            "today": local_today(),
            "repeated": {key for key, n in Counter(_key(row) for row in rows).items() if n > 1}}


def _quarter(text: str, today):
    try:
        if not text.isascii():
            raise BadPeriod(text)
        period = parse_quarter(text.upper())
    except BadPeriod:
        raise RowProblem(f"季度 {text!r} 应为 YYYYQn,如 2026Q3 (bad quarter)") from None
    if period.start.year < services.FIRST_YEAR:
        raise RowProblem(f"季度 {text} 早于 {services.FIRST_YEAR} 年 (quarter too early)")
    if not services.is_recordable(period, today):
        raise RowProblem(f"季度 {text} 尚未开始 (quarter in the future)")
    return period


def _check(row: dict, context: dict) -> dict:
    code = row["outlet_code"].upper()
    found = context["units"].get(code)
    if found is None:
        raise RowProblem(f"网点代码 {row['outlet_code']!r} 不存在 (unknown outlet_code)")
    if found[1] != "outlet":
        raise RowProblem(f"{code} 不是网点 (outlet_code is not an outlet)")
    period = _quarter(row["quarter"], context["today"])
    if _key(row) in context["repeated"]:
        raise RowProblem(f"{code} {period.label} 在文件中出现多次 "
                         f"(the same outlet_code and quarter more than once)")
    values = {}
    for name in services.CHECKS:
        try:
            values[name] = services.parse_score(row[name])
        except services.BadScore as error:
            raise RowProblem(f"{LABELS[name]} {row[name]!r} {REASONS[error.reason]} "
                             f"({name})") from None
    return {"outlet_id": found[0], "quarter": period.label, "values": values}


def _apply(plans: list[dict]) -> None:
    if not plans:
        return
    outlets = {unit.id: unit for unit in db.session.scalars(
        select(OrgUnit).where(OrgUnit.id.in_({plan["outlet_id"] for plan in plans})))}
    now = utcnow()
    by_quarter: dict[str, dict] = {}
    for plan in plans:
        by_quarter.setdefault(plan["quarter"], {})[outlets[plan["outlet_id"]]] = (
            plan["values"], None)
    for quarter, changes in sorted(by_quarter.items()):
        services.save_inspections(changes, quarter, None, now, action="imported")


INSPECTION_IMPORTER = Importer("inspections", INSPECTION_COLUMNS, _check, _apply, _prepare)
