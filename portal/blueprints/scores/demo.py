"""Demo history."""
from datetime import date


def seed_history(today: date) -> None:
    """Demo history (to be written)."""
