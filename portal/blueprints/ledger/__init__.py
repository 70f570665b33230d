"""The 12-point service ledger (SPEC section 5): the rule catalogue and its rules."""
