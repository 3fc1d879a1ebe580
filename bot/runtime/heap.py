"""The garbage collector, set for a long-running service once it has started.

Start-up leaves some 150,000 objects (the web framework, SQLAlchemy, the phone number metadata)
that live as long as the process. Python's full collections walk all of them: 140 ms each,
triggered again and again as the ingestion caches grow, 14 µs an event at 1,000-event batches
(`bench/ingest.py`). `gc.freeze()` moves them out of the collector's sight (they are never
garbage), and a larger first-generation threshold lets a batch's short-lived objects be freed by
reference counting before any collection walks them. Cyclic garbage is still collected.
"""

from __future__ import annotations

import gc

# Allocations between first-generation collections (Python's default is 700): a batch of 1,000
# events holds some 20,000 objects until it is written.
GEN0_THRESHOLD = 50_000


def settle_after_start() -> None:
    """Freeze what start-up made and raise the first generation's threshold; call once, when
    the process has built its services and is about to serve."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
