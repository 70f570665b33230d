"""Reports (SPEC section 8): the monthly notice (月度通报) of an outlet, printable and as xlsx."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from . import views  # noqa: E402,F401  (routes register)
