"""Helpers of the honours tests: nominations made through the services, a photo on file."""
from datetime import timedelta
from pathlib import Path

from flask import current_app
from PIL import Image

from portal.blueprints.honours import services
from portal.extensions import db
from portal.periods import month_of
from portal.timeutil import local_today, utcnow

from .conftest import person


def last_month() -> str:
    return month_of(local_today().replace(day=1) - timedelta(days=1)).label


def give_photo(work_no: str) -> None:
    """Put a small JPEG on file as ``work_no``'s photo."""
    folder = Path(current_app.instance_path) / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{work_no}-test.jpg"
    Image.new("RGB", (8, 8), "red").save(folder / name, "JPEG")
    person(work_no).photo = name
    db.session.commit()


def nominated(work_no: str, title: str = "monthly_star", period: str | None = None,
              citation: str = "服务热情周到,客户多次表扬。"):
    """A nomination by the person's outlet manager, committed."""
    teller = person(work_no)
    manager = "M0001" if teller.org_unit.code == "ZJK-001" else "M0002"
    honour = services.nominate(person(manager), teller, title, period or last_month(), citation,
                               utcnow())
    db.session.commit()
    return honour


def approved_star(work_no: str, with_photo: bool = True, **kwargs):
    """An approved monthly star of last month (A01 recorded), with a photo on file."""
    honour = nominated(work_no, **kwargs)
    services.approve(honour, person("S0001"), utcnow())
    db.session.commit()
    if with_photo:
        give_photo(work_no)
    return honour
