"""Concurrent requests share one ingestion transaction and each gets back exactly its results."""

from __future__ import annotations

import asyncio

from bot.app import Services
from bot.intake.batcher import IngestQueue
from bot.intake.ingest import Ingestor
from storage.db import Database
from storage.errors import DatabaseUnavailable
from tests.helpers import decisions, event, run_async, sends


def test_concurrent_requests_each_get_their_own_results(services: Services) -> None:
    ingest = IngestQueue(services.ingestor)

    async def many() -> list[list[str]]:
        requests = [[event(f"e{i}", contact=f"c{i}")] for i in range(50)]
        requests.append([event("e3", contact="c3"), event("batch-1", contact="b1")])  # e3 again
        answers = await asyncio.gather(*(ingest.submit(r) for r in requests))
        return [[f"{res.id}:{res.status}" for res in answer] for answer in answers]

    answers = run_async(many)
    ingest.close()
    assert answers[:50] == [[f"e{i}:accepted"] for i in range(50)]
    assert answers[50] == ["e3:duplicate", "batch-1:accepted"]
    assert len(sends(services.db)) == 51 and len(decisions(services.db)) == 51


def test_a_group_never_exceeds_the_batch_limit(services: Services) -> None:
    ingest = IngestQueue(services.ingestor, max_events=10)
    seen: list[int] = []
    original = services.ingestor.ingest

    def counting(raws: list[object], **kwargs: object) -> object:
        seen.append(len(raws))
        return original(raws)  # type: ignore[arg-type]

    services.ingestor.ingest = counting  # type: ignore[method-assign]

    async def many() -> None:
        await asyncio.gather(
            *(ingest.submit([event(f"e{i}-{j}", contact=f"c{i}") for j in range(4)]) for i in range(9))
        )

    run_async(many)
    ingest.close()
    assert sum(seen) == 36 and max(seen) <= 10


def test_a_failing_batch_fails_each_of_its_requests(services: Services) -> None:
    unreachable = Database("postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2")
    ingestor = Ingestor(unreachable, services.config, services.clock, services.address_keys)
    ingest = IngestQueue(ingestor)

    async def two() -> list[BaseException | list[object]]:
        return await asyncio.gather(
            ingest.submit([event("e1")]), ingest.submit([event("e2")]), return_exceptions=True
        )

    outcomes = run_async(two)
    ingest.close()
    assert all(isinstance(outcome, DatabaseUnavailable) for outcome in outcomes)


def test_requests_from_different_sources_each_keep_their_source(services: Services) -> None:
    from storage.explain import contact_history

    ingest = IngestQueue(services.ingestor)
    sources = ["api", "shopify:shop", "api", "webhook:crm"] * 10

    async def many() -> None:
        await asyncio.gather(
            *(ingest.submit([event(f"e{i}", contact=f"c{i}")], source=s) for i, s in enumerate(sources))
        )

    run_async(many)
    ingest.close()
    with services.db.read() as conn:
        stored = [contact_history(conn, f"c{i}").events[0]["source"] for i in range(len(sources))]
    assert stored == sources
