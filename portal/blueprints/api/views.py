"""API endpoints. Every one needs ``Authorization: Bearer <token>`` and answers JSON."""
from flask import abort, g, jsonify, request
from sqlalchemy import select

from ...extensions import db
from ...models import Person
from ...security import log_security
from . import bp
from .services import find_active_token


@bp.before_request
def require_token():
    """Refuse requests without a valid bearer token with 401 JSON."""
    scheme, _, plain = request.headers.get("Authorization", "").partition(" ")
    token = find_active_token(plain.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        log_security("api_denied", path=request.path)
        abort(401)
    g.api_token = token


@bp.get("/people/<work_no>")
def person(work_no: str):
    """Basic facts of one person: name, role, outlet, status."""
    found = db.session.scalar(select(Person).where(Person.work_no == work_no))
    if found is None:
        abort(404)
    return jsonify(
        work_no=found.work_no,
        name=found.name,
        role=found.role,
        outlet=found.org_unit.code,
        joined_on=found.joined_on.isoformat(),
        active=found.active,
    )
