"""Star-rated teller evaluations: windows and duty, the customer's rating page, measures, levels."""
from flask import Blueprint

from ...signals import unit_saved

bp = Blueprint("ratings", __name__)

from . import dashboard, duty, manage, public, services  # noqa: E402,F401  (routes register)

unit_saved.connect(services.sync_windows)
