"""Home-page panels: each feature registers what it adds to a role's home page."""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Panel:
    template: str
    roles: tuple[str, ...]
    context: Callable[[object], dict]  # (user) -> template variables
    order: int


_PANELS: list[Panel] = []


def register_panel(template: str, roles: tuple[str, ...], context: Callable[[object], dict],
                   order: int = 50) -> None:
    """Show ``template`` on the home page of ``roles``, rendered with ``context(user)``."""
    if any(panel.template == template for panel in _PANELS):
        return
    _PANELS.append(Panel(template, roles, context, order))
    _PANELS.sort(key=lambda panel: panel.order)


def panels_for(user) -> list[tuple[str, dict]]:
    """The (template, variables) pairs of the panels ``user`` sees, in order."""
    return [(panel.template, panel.context(user)) for panel in _PANELS if user.role in panel.roles]
