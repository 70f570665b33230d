"""Demo data for ``seed-demo``: the organisation and people of CONTRACT.md and their history."""
from datetime import date

from sqlalchemy import func, select

from .blueprints.admin import services
from .blueprints.checklist import demo as checklist_demo
from .blueprints.checklist import services as checklist_services
from .blueprints.complaints import demo as complaints_demo
from .blueprints.honours import demo as honours_demo
from .blueprints.ledger import demo as ledger_demo
from .blueprints.ratings import demo as ratings_demo
from .blueprints.scores import demo as scores_demo
from .extensions import db
from .models import ADMIN, LOBBY, MANAGER, OFFICE, TELLER, OrgUnit, Person
from .timeutil import local_today

DEMO_PASSWORD = "demo-pass-2026"

UNITS = (
    ("HQ", "总行", "bank", None, 0),
    ("ZJK", "张家口分行", "branch", "HQ", 0),
    ("ZJK-YYB", "营业部", "subbranch", "ZJK", 0),
    ("ZJK-001", "营业部网点", "outlet", "ZJK-YYB", 6),
    ("ZJK-002", "桥东网点", "outlet", "ZJK-YYB", 4),
)

TELLER_NAMES = ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "孙磊", "周婷", "吴昊")

PEOPLE = (
    ("A0001", "系统管理员", ADMIN, "HQ", date(2015, 3, 1)),
    ("S0001", "郑文华", OFFICE, "ZJK", date(2012, 7, 1)),
    ("M0001", "高建国", MANAGER, "ZJK-001", date(2010, 9, 1)),
    ("L0001", "马丽", LOBBY, "ZJK-001", date(2016, 4, 1)),
    *(
        (f"T100{i}", TELLER_NAMES[i - 1], TELLER, "ZJK-001", date(2016 + i % 6, 1 + i, 1))
        for i in range(1, 7)
    ),
    ("M0002", "胡志强", MANAGER, "ZJK-002", date(2011, 5, 1)),
    ("L0002", "林晓", LOBBY, "ZJK-002", date(2018, 8, 1)),
    *(
        (f"T200{i}", TELLER_NAMES[5 + i], TELLER, "ZJK-002", date(2017 + i, 2 + i, 1))
        for i in range(1, 5)
    ),
)


def database_is_empty() -> bool:
    """True when there are no org units and no people yet."""
    units = db.session.scalar(select(func.count(OrgUnit.id)))
    people = db.session.scalar(select(func.count(Person.id)))
    return not units and not people


def seed_demo(with_history: bool = True, today: date | None = None) -> None:
    """Load the demo organisation and people, and their history, in one transaction."""
    units: dict[str, OrgUnit] = {}
    for code, name, kind, parent, windows in UNITS:
        units[code] = services.build_unit(code, name, kind, units.get(parent), windows)
    for work_no, name, role, unit, joined_on in PEOPLE:
        services.build_person(work_no, name, role, units[unit], joined_on, DEMO_PASSWORD)
    db.session.flush()
    checklist_services.current_template()  # the default 20-item checklist
    if with_history:
        ratings_demo.seed_history(today or local_today())
        complaints_demo.seed_history(today or local_today())
        checklist_demo.seed_history(today or local_today())
        ledger_demo.seed_history(today or local_today())
        honours_demo.seed_history(today or local_today())
        scores_demo.seed_history(today or local_today())
    db.session.commit()
