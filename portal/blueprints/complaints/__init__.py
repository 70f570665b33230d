"""Complaints under the first-contact responsibility rule: the public form and look-up, staff
intake, the owner's desk with its clocks, transfers, decisions, callbacks and measures."""
from flask import Blueprint

bp = Blueprint("complaints", __name__, url_prefix="/complaints")

from . import desk, public, reports, services  # noqa: E402,F401  (routes register)
from ..ratings import services as ratings_services  # noqa: E402

if services.upheld_counts_over not in ratings_services.UPHELD_COUNTERS:
    ratings_services.UPHELD_COUNTERS.append(services.upheld_counts_over)
