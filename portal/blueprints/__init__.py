"""Feature packages, one per capability."""
