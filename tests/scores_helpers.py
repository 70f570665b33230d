"""Helpers of the score tests: complaints and stored scores made directly."""
import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from portal.blueprints.complaints.models import CLOSED, Complaint
from portal.timeutil import stored
from portal.blueprints.scores import services
from portal.extensions import db
from portal.models import unit_by_code
from portal.periods import quarter_of
from portal.timeutil import local_today, utcnow

_tickets = itertools.count(1)
TODAY = local_today()
QUARTER = quarter_of(TODAY)


def complaint(outlet: str, local: datetime, finding: str | None = "upheld",
              level: str = "outlet") -> Complaint:
    """A decided complaint of ``outlet`` received at the naive local moment ``local``."""
    received = stored(local)
    made = Complaint(ticket=f"TS-SCORE-{next(_tickets):04d}", channel="walk_in",
                     outlet_id=unit_by_code(outlet).id, category="attitude", level=level,
                     received_at=received, status=CLOSED, response_due=received,
                     decision_due=received + timedelta(days=15), finding=finding,
                     decided_at=received, historical=True)
    db.session.add(made)
    db.session.commit()
    return made


def checks(outlet: str, quarter: str, mystery=None, offsite=None, onsite=None) -> None:
    """Store an outlet's three check scores of ``quarter`` (texts or None)."""
    values = {name: None if v is None else Decimal(str(v))
              for name, v in zip(services.CHECKS, (mystery, offsite, onsite))}
    services.save_inspections({unit_by_code(outlet): (values, None)}, quarter, None, utcnow())
    db.session.commit()


def management(subbranch: str, quarter: str, score=None, innovation=0, award=0) -> None:
    unit = unit_by_code(subbranch)
    row = services.subbranch_rows([unit], quarter).get(unit.id)
    values = {"management": None if score is None else Decimal(str(score)),
              "innovation": Decimal(str(innovation)), "award": Decimal(str(award))}
    services.save_subbranches({unit: (values, row.version if row else 0)}, quarter, None,
                              utcnow())
    db.session.commit()


def middle_of(period) -> datetime:
    """Noon local time of a day in the middle of ``period``."""
    return datetime.combine(period.start + timedelta(days=40), datetime.min.time()).replace(
        hour=12)
