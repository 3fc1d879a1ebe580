"""The words a decision is stored and shown with: what came of it, and why no send went out.

One vocabulary for the gates, ingestion, the replay and the API; the strings are what the
`decisions` table holds, so they never change.
"""

from __future__ import annotations

from typing import Literal, get_args

Outcome = Literal["scheduled", "deferred", "suppressed", "cancelled"]

# The gates in the order they run: the first that stops a send is the reason recorded.
GateReason = Literal[
    "opted_out",
    "no_address",
    "stale",
    "conditions",
    "sampled_out",
    "survey_cooldown",
    "contact_cooldown",
    "contact_cap",
    "daily_cap",
]
GATES: tuple[GateReason, ...] = get_args(GateReason)

# Besides the gates: a `cancel_on` event calling a send off, the re-check at send time
# (`quiet_hours` defers, `opted_out` suppresses), and an erased contact's sends (`forgotten`).
Reason = Literal[GateReason, "cancel_on", "quiet_hours", "forgotten"]
