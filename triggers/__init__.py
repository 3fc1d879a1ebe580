"""Pure decisions: which triggers an event sets off, whether the policy lets them through, and
which pending sends it calls off (`engine.decide_event`: an event and the history in, decisions out).

Nothing here does I/O; storage hands in the history these functions judge.
"""
