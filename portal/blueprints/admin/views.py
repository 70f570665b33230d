"""Admin views."""
