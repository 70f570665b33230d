"""Each role's home page, health check and staff photos."""
from flask import Blueprint

bp = Blueprint("home", __name__)

from . import views  # noqa: E402,F401  (routes register on import)
