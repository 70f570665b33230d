"""The 12-point service ledger (SPEC section 5): the rule catalogue, entries and their rules,
the person and outlet pages, proposals from other features confirmed here, the import."""
from flask import Blueprint

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

from . import measures, pages  # noqa: E402,F401  (routes register)
from ..ratings import services as ratings_services  # noqa: E402

if measures.net_points_over not in ratings_services.NET_POINTS_SOURCES:
    ratings_services.NET_POINTS_SOURCES.append(measures.net_points_over)
