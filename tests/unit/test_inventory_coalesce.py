"""Bursts of engine events make one refresh that names what changed
(core/inventory/coalesce.py): fed event sequences, an injected clock, no sleeps."""

from __future__ import annotations

import itertools

from pytest import approx

from mltui.core.inventory.coalesce import Changes, EventCoalescer, changes_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def container(action: str, cid: str, **labels: str) -> dict:
    return {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": cid, "Attributes": {"name": cid, **labels}},
    }


SWARM = {"com.docker.swarm.service.id": "svc1", "com.docker.swarm.task.id": "t1"}


def test_a_burst_of_events_makes_one_refresh_naming_every_container():
    clock = Clock()
    bursts = EventCoalescer(quiet=0.1, max_latency=0.25, clock=clock)
    starts = []
    for i in range(50):
        for action in ("create", "start"):
            starts.append(bursts.add(container(action, f"c{i}")))
        clock.now += 0.001
    assert starts.count(True) == 1 and starts[0] is True  # one message for the whole burst
    changes = bursts.take()
    assert changes is not None
    assert changes.containers == {f"c{i}" for i in range(50)}
    assert changes.events == 100
    assert not changes.swarm and not changes.everything and not changes.engine
    assert bursts.take() is None and bursts.due_in() is None


def test_the_refresh_waits_for_a_quiet_moment_but_never_past_the_latency_bound():
    clock = Clock()
    bursts = EventCoalescer(quiet=0.1, max_latency=0.25, clock=clock)
    assert bursts.due_in() is None
    bursts.add(container("start", "a"))
    assert bursts.due_in() == approx(0.1)
    clock.now += 0.05
    bursts.add(container("start", "b"))  # the quiet window starts again...
    assert bursts.due_in() == approx(0.1)
    for _ in range(10):  # ...but a stream that never stops is taken at 0.25 s
        clock.now += 0.05
        bursts.add(container("start", "c"))
    assert bursts.due_in() == 0.0
    clock.now += 5.0
    assert bursts.due_in() == 0.0  # long overdue: now, never negative


def test_quiet_events_start_no_burst():
    bursts = EventCoalescer(clock=Clock())
    for action in ("exec_create: sh", "exec_start: sh", "exec_die", "top", "resize", "attach"):
        assert bursts.add(container(action, "c1")) is False
    assert bursts.due_in() is None and bursts.take() is None


def test_what_each_kind_of_event_asks_to_read_again():
    plain = changes_of(container("die", "c1"))
    assert plain == Changes(containers={"c1"}, events=1)
    task = changes_of(container("start", "c2", **SWARM))
    assert task is not None and task.swarm and task.containers == {"c2"}
    service = changes_of({"Type": "service", "Action": "update", "Actor": {"ID": "s1"}})
    assert service is not None and service.swarm and not service.containers
    node = changes_of({"Type": "node", "Action": "update", "Actor": {"ID": "n1"}})
    assert node is not None and node.swarm and node.engine and not node.everything
    daemon = changes_of({"Type": "daemon", "Action": "reload", "Actor": {"ID": "d"}})
    assert daemon is not None and daemon.everything and daemon.engine
    nameless = changes_of({"Type": "container", "Action": "die", "Actor": {}})
    assert nameless is not None and nameless.everything
    assert changes_of(container("exec_die", "c1")) is None


def test_hostile_events_do_not_crash_and_read_everything():
    for event in (
        {},
        {"Type": None},
        {"Type": "container", "Actor": "not a mapping"},
        {"Type": "container", "Action": 7, "Actor": {"ID": "c", "Attributes": ["x"]}},
        {"Type": "volume", "Action": "mount"},
    ):
        changes = changes_of(event)
        assert changes is not None
        assert changes.everything or changes.containers


def test_a_poll_in_the_middle_of_a_burst_widens_it_to_everything():
    clock = Clock()
    bursts = EventCoalescer(clock=clock)
    assert bursts.add(container("start", "a", **SWARM)) is True
    assert bursts.want_everything() is False  # joins the pending burst
    changes = bursts.take()
    assert changes is not None and changes.everything and changes.swarm
    assert changes.containers == {"a"}
    assert bursts.want_everything() is True  # a new burst of its own


def test_events_after_a_take_start_the_next_burst():
    clock = Clock()
    bursts = EventCoalescer(quiet=0.1, max_latency=0.25, min_gap=0.5, clock=clock)
    bursts.add(container("start", "a"))
    clock.now += 0.1
    first = bursts.take()
    assert first is not None and first.containers == {"a"}
    clock.now += 2.0
    assert bursts.add(container("die", "b")) is True
    assert bursts.due_in() == approx(0.1)  # measured from the new first event
    second = bursts.take()
    assert second is not None and second.containers == {"b"}


def test_sustained_churn_refreshes_at_most_every_min_gap_then_every_churn_gap():
    """Events a quarter of a second apart (a slow engine starting containers one
    by one): not a refresh each; one every ``min_gap`` seconds at first, and once
    the gap has held ``churn_after`` bursts back in a row, one every ``churn_gap``."""
    clock = Clock()
    bursts = EventCoalescer(
        quiet=0.1, max_latency=0.25, min_gap=0.5, churn_gap=2.0, churn_after=2, clock=clock
    )
    taken: list[float] = []
    named: set[str] = set()
    for i in range(40):  # 40 events over 10 s
        if bursts.due_in() == 0.0:
            changes = bursts.take()
            assert changes is not None
            named |= changes.containers
            taken.append(clock.now)
        bursts.add(container("start", f"c{i}"))
        clock.now += 0.25
    clock.now += 3.0
    last = bursts.take()
    assert last is not None
    named |= last.containers
    assert named == {f"c{i}" for i in range(40)}  # nothing lost
    gaps = [b - a for a, b in itertools.pairwise(taken)]
    # the first burst alone, then two held back by the 0.5 s gap...
    assert all(0.5 - 1e-9 <= g <= 0.5 + 0.25 + 1e-9 for g in gaps[:2]), gaps
    # ...and from then on one every 2 s, never starved
    assert gaps[2:] and all(2.0 - 1e-9 <= g <= 2.0 + 0.25 + 1e-9 for g in gaps[2:]), gaps
    assert len(taken) <= 2 + 10 / 2.0 + 1


def test_the_gap_narrows_again_once_the_churn_stops():
    clock = Clock()
    bursts = EventCoalescer(
        quiet=0.1, max_latency=0.25, min_gap=1.0, churn_gap=2.0, churn_after=2, clock=clock
    )
    for i in range(30):  # 6 s of events 0.2 s apart: the gap widens
        if bursts.due_in() == 0.0:
            bursts.take()
        bursts.add(container("start", f"c{i}"))
        clock.now += 0.2
    assert bursts.gap == 2.0
    clock.now += 2.5
    assert bursts.due_in() == 0.0
    bursts.take()  # the rest of the churn
    for name in "xyzw":  # single changes 5 s apart: each taken after the quiet moment only
        clock.now += 5.0
        bursts.add(container("die", name))
        assert bursts.due_in() == approx(0.1)
        clock.now += 0.1
        bursts.take()
    assert bursts.gap == 1.0  # none of them was held back: the churn is over
    clock.now += 0.3  # the next change waits for the 1 s gap only
    bursts.add(container("start", "y"))
    assert bursts.due_in() == approx(0.7)  # 1 s after the take, not 2


def test_a_crash_loop_as_the_engine_sends_it_is_read_every_two_seconds():
    """The events of a swarm task that exits every ~3.5 s, at the offsets a real
    engine sent them (die, disconnect, create, destroy, connect, start): after the
    first bursts, one refresh every 2 s at most; every container is read."""
    clock = Clock()
    bursts = EventCoalescer(clock=clock)  # the app's own settings
    offsets = (("die", 0.0), ("create", 0.27), ("destroy", 0.46), ("start", 1.47))
    timeline = sorted(
        (cycle * 3.5 + at, action, f"task{cycle}") for cycle in range(12) for action, at in offsets
    )
    taken: list[float] = []
    named: set[str] = set()
    step = 0.01
    t = 0.0
    pending = list(timeline)
    while t < 12 * 3.5 + 3.0:
        clock.now = 1000.0 + t
        while pending and pending[0][0] <= t:
            _, action, cid = pending.pop(0)
            bursts.add(container(action, cid, **SWARM))
        if bursts.due_in() == 0.0:
            changes = bursts.take()
            assert changes is not None
            named |= changes.containers
            taken.append(t)
        t = round(t + step, 2)
    assert named == {f"task{c}" for c in range(12)}
    gaps = [b - a for a, b in itertools.pairwise(taken)]
    assert all(g >= 1.0 - 1e-6 for g in gaps)
    assert all(g >= 2.0 - 1e-6 for g in gaps[2:-1]), str(gaps)  # the churn is sustained
    assert len(taken) <= 42 / 2.0 + 3  # not one per event (48), nor one a second (42)


def test_a_crash_loop_refreshes_once_per_cycle_not_once_per_event():
    """A task that exits every 3 s sends create/start/die/destroy and network events
    close together: 5 cycles make 5 refreshes, not 25."""
    clock = Clock()
    bursts = EventCoalescer(quiet=0.1, max_latency=0.25, clock=clock)
    refreshes = 0
    for cycle in range(5):
        cid = f"task{cycle}"
        for action in ("create", "attach", "start", "die", "destroy"):
            if bursts.add(container(action, cid, **SWARM)):
                pass
            clock.now += 0.02
            due = bursts.due_in()
            if due == 0.0:
                bursts.take()
                refreshes += 1
        clock.now += 3.0
        if bursts.due_in() == 0.0:
            bursts.take()
            refreshes += 1
    assert refreshes == 5
