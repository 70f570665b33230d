"""The 20-item hall checklist: today's sheet ticked on the hall PC, problems with photos and
deadlines, sign-off, the problem ledger, the history calendar and the template versions."""
from flask import Blueprint

bp = Blueprint("checklist", __name__, url_prefix="/checklist")

from . import history, services, sheet, templates  # noqa: E402,F401  (routes register)
