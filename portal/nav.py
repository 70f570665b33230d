"""Navigation by role: each feature registers its entries; the base layout shows the allowed ones."""
from dataclasses import dataclass

from flask import request


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string, translated at render time
    roles: tuple[str, ...]
    order: int


_ITEMS: list[NavItem] = []


def register_nav(endpoint: str, label, roles: tuple[str, ...], order: int = 50) -> None:
    """Add a navigation entry shown to people with one of ``roles``."""
    if any(item.endpoint == endpoint for item in _ITEMS):
        return
    _ITEMS.append(NavItem(endpoint, label, roles, order))
    _ITEMS.sort(key=lambda item: item.order)


def nav_for(user) -> list[NavItem]:
    """Return the entries the signed-in ``user`` may use."""
    if not user.is_authenticated:
        return []
    return [item for item in _ITEMS if user.role in item.roles]


def is_current(item: NavItem) -> bool:
    """True when the request is inside the section ``item`` links to."""
    endpoint = request.endpoint or ""
    return endpoint == item.endpoint or (
        item.endpoint.split(".")[0] == endpoint.split(".")[0] and item.endpoint.endswith(".index")
    )
