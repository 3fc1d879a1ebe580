"""Pure decisions: which trigger fires for an event, and whether the policy lets it through.

Nothing here does I/O; storage hands in the history these functions judge.
"""
