"""The outlets' quarterly service score (SPEC section 7): inspection scores, the complaint
deduction, the weighting, the sub-branch score and the ranking."""
from flask import Blueprint

bp = Blueprint("scores", __name__, url_prefix="/scores")

from . import views  # noqa: E402,F401  (routes register)
