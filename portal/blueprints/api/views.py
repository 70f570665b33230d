"""API endpoints. Every one needs ``Authorization: Bearer <token>`` and answers JSON."""
from flask import abort, g, jsonify, request

from ...errors import render_error
from ...models import Person, person_by_work_no, unit_by_code
from ...periods import BadPeriod, parse
from ...security import log_security
from ...timeutil import local_today
from ..ledger import services as ledger
from ..ratings.services import measures_for, star_level, thresholds
from ..scores import services as scores
from . import bp
from .services import find_active_token


@bp.before_request
def require_token():
    """Refuse requests without a valid bearer token with 401 JSON."""
    scheme, _, plain = request.headers.get("Authorization", "").partition(" ")
    token = find_active_token(plain.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        log_security("api_denied", path=request.path)
        # RFC 6750 section 3: a 401 names the scheme the client should use.
        return render_error(401, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    g.api_token = token


@bp.after_request
def no_store(response):
    """Personal data: no browser or proxy may keep a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _person_or_404(work_no: str) -> Person:
    found = person_by_work_no(work_no.upper())  # work numbers are stored in capitals
    if found is None:
        abort(404)
    return found


def _fraction(value) -> float | None:
    return None if value is None else float(value)


@bp.get("/people/<work_no>")
def person(work_no: str):
    """Basic facts of one person: name, role, outlet, status."""
    found = _person_or_404(work_no)
    return jsonify(
        work_no=found.work_no,
        name=found.name,
        role=found.role,
        outlet=found.org_unit.code,
        joined_on=found.joined_on.isoformat(),
        active=found.active,
    )


@bp.get("/people/<work_no>/ratings")
def person_ratings(work_no: str):
    """A person's rating measures for a month or quarter, with the projected star level."""
    found = _person_or_404(work_no)
    try:
        period = parse(request.args.get("period", ""))
    except BadPeriod:
        return render_error(400, "period must be YYYY-MM or YYYYQn")
    measures = measures_for([found.id], period)[found.id]
    return jsonify(
        work_no=found.work_no,
        period=period.label,
        ratings=measures.ratings,
        average=_fraction(measures.average),
        satisfaction_rate=_fraction(measures.satisfaction_rate),
        evaluation_rate=_fraction(measures.evaluation_rate),
        on_rate=_fraction(measures.on_rate),
        complaints_upheld=measures.complaints_upheld,
        projected_level=star_level(measures, thresholds()),
    )


@bp.get("/people/<work_no>/standing")
def person_standing(work_no: str):
    """A person's points for a year: balance, entries, upheld complaints, grade cap, warning."""
    found = _person_or_404(work_no)
    text = request.args.get("year", str(local_today().year))
    if not (text.isascii() and text.isdigit() and len(text) == 4 and 2000 <= int(text) <= 2100):
        return render_error(400, "year must be YYYY")
    return jsonify(ledger.standing(found, int(text), local_today()))


@bp.get("/outlets/<code>/score")
def outlet_score(code: str):
    """An outlet's quarterly service score: the three checks (null: not done), the complaint
    deduction and the score (null: no check done); the current quarter when none is given, as
    the standing answers the current year."""
    unit = unit_by_code(code.upper()) if len(code) <= 20 else None
    if unit is None or unit.kind != "outlet":
        abort(404)
    text = request.args.get("quarter")
    try:
        if text is not None and not text.strip():
            raise BadPeriod(text)  # given but empty, as ?year= is for the standing
        period = scores.quarter_from(text, local_today())
    except BadPeriod:
        return render_error(400, "quarter must be YYYYQn")
    result = scores.outlet_result(unit, period)
    return jsonify(outlet=unit.code, quarter=period.label, mystery=_fraction(result.mystery),
                   offsite=_fraction(result.offsite), onsite=_fraction(result.onsite),
                   complaint_deduction=float(result.deduction), score=_fraction(result.score))
