"""The honours board (SPEC section 6): titles, nominations with a citation, the office's
approval creating the linked award entry, candidate suggestions, the board with its archive
and the hall display."""
from flask import Blueprint

bp = Blueprint("honours", __name__, url_prefix="/honours")

from . import views  # noqa: E402,F401  (routes register)
