"""Append-only audit history: every feature records its changes here, in the same transaction."""
import json
import logging

from flask import has_request_context, request
from flask_login import current_user

from .extensions import db
from .models import AuditEvent, OrgUnit, Person

logger = logging.getLogger(__name__)


def record(action: str, obj=None, *, actor: Person | None = None,
           in_unit: OrgUnit | None = None, **details) -> AuditEvent:
    """Add an audit line for ``action`` on ``obj``; committed with the caller's transaction."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None and obj.id is not None else None,
        org_unit_id=in_unit.id if in_unit else _unit_of(obj),
        details=json.dumps(details, ensure_ascii=False, default=str, sort_keys=True),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


def _unit_of(obj) -> int | None:
    if isinstance(obj, OrgUnit):
        return obj.id
    return getattr(obj, "org_unit_id", None)
