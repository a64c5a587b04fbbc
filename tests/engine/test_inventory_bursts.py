"""A burst of real container starts makes a few refreshes that read only what the
events named, and the inventory they end with is the one a full read gives
(core/inventory/coalesce.py, core/inventory/reader.py)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import docker, wait_for

from mltui.core.engine import Engine
from mltui.core.inventory import Inventory, Replica, Snapshot
from mltui.core.inventory.coalesce import EventCoalescer

pytestmark = pytest.mark.engine

BURST = 24
FIXED_NOW = 2_000_000_000.0  # both inventories compute ages from the same moment


class EventClock:
    """The coalescer's clock follows the events' own times as they are replayed."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ours(snapshot: Snapshot, prefix: str) -> dict[str, Replica]:
    return {r.name: r for s in snapshot.services() for r in s.replicas if r.name.startswith(prefix)}


def test_a_burst_of_starts_makes_few_narrow_refreshes_and_the_right_inventory(
    container_factory, run_id
):
    prefix = f"{run_id}-burst"
    names = [container_factory(f"burst{i:02d}", create_only=True) for i in range(BURST)]
    engine = Engine()
    try:
        inventory = Inventory(engine, clock=lambda: FIXED_NOW)
        inventory.snapshot()  # a full read: the created containers, inspected
        assert inventory.full_reads == 1
        since = time.time()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: docker("start", n), names))

        def all_running() -> bool:
            out = docker("ps", "--filter", f"label=mltui.test={run_id}", "--format", "{{.Names}}")
            return set(names) <= set(out.split())

        wait_for("the burst's containers to run", all_running, timeout=120)
        until = time.time() + 0.5
        # replay the burst's events with their own timing, as the app's watcher reads them
        events = [
            e
            for e in engine.events(since=since, until=until)
            if str((e.get("Actor") or {}).get("Attributes", {}).get("name", "")).startswith(prefix)
        ]
        assert len(events) >= BURST  # one start each at least
        span = (int(events[-1]["timeNano"]) - int(events[0]["timeNano"])) / 1e9
        clock = EventClock()
        bursts = EventCoalescer(clock=clock)
        refreshes: list[Snapshot] = []
        for event in events:
            clock.now = int(event["timeNano"]) / 1e9
            if bursts.due_in() == 0.0:
                changes = bursts.take()
                refreshes.append(inventory.snapshot(changes=changes))
            bursts.add(event)
        clock.now += 1.0
        last = bursts.take()
        assert last is not None
        refreshes.append(inventory.snapshot(changes=last))

        assert inventory.full_reads == 1, "a burst of container events never lists everything"
        assert inventory.narrow_reads == len(refreshes)
        # however slowly the engine starts them: one refresh per min_gap at most
        # (plus the last), and fewer than one per container
        said = f"{len(events)} events over {span:.1f} s made {len(refreshes)} refreshes"
        assert len(refreshes) <= int(span / bursts.min_gap) + 2, said
        assert len(refreshes) < BURST, said
        for snap in refreshes:
            # one filtered list call, and inspects of the containers named; no swarm lists
            assert snap.calls - snap.inspects == 1

        final = ours(refreshes[-1], prefix)
        fresh = Inventory(engine, clock=lambda: FIXED_NOW).snapshot()
        assert final == ours(fresh, prefix)
        assert len(final) == BURST
        assert all(r.running and r.since for r in final.values())
    finally:
        engine.close()


def test_a_destroyed_container_leaves_a_narrow_read(container_factory, run_id):
    name = container_factory("burstgone")
    engine = Engine()
    try:
        inventory = Inventory(engine)
        before = inventory.snapshot()
        assert name in ours(before, name)
        since = time.time()
        docker("rm", "-f", name)
        bursts = EventCoalescer()
        for event in engine.events(since=since, until=time.time() + 0.5):
            bursts.add(event)
        changes = bursts.take()
        assert changes is not None
        after = inventory.snapshot(changes=changes)
        assert inventory.full_reads == 1
        assert ours(after, name) == {}
    finally:
        engine.close()
