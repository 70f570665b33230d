"""Signals between features, so that one package need not import another."""
from blinker import Namespace

_signals = Namespace()

#: sent with ``unit=<OrgUnit>`` after an org unit is created or changed (inside the transaction)
unit_saved = _signals.signal("unit-saved")
