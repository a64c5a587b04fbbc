"""Swarm replicas after an engine restart: recorded from a real second dockerd, and generated.

The recording (data/swarm-engine-restart.json) is a one-node swarm whose dockerd was
killed with SIGKILL and restarted twice within three minutes, and a service whose
program crashes (exit 3) on the same node. What it pins down (issue 16, "Faults:
the engine"): replicas the engine restart killed are not a crash loop, and a replica
between states is "settling", which makes the UI read the task list again because no
event will announce its next state.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mltui.core.engine import EngineInfo
from mltui.core.inventory import build_snapshot, parse_time
from mltui.core.inventory.builder import engine_stop_failures
from mltui.core.inventory.events import SettleSchedule, tasks_settling

DATA = json.loads((Path(__file__).parent / "data" / "swarm-engine-restart.json").read_text())
INFO = EngineInfo(target="unix:///x.sock", state="connected", swarm="active", swarm_manager=True)


def newest(tasks):
    return max(parse_time(t["Status"]["Timestamp"]) for t in tasks)


def only(snapshot, name):
    (svc,) = [s for s in snapshot.services() if s.name == name]
    return svc


def at(tasks_key, services_key="services", after=2.0):
    tasks = DATA[tasks_key]
    return build_snapshot(INFO, [], DATA[services_key], tasks, now=newest(tasks) + after)


def test_two_engine_restarts_are_not_a_crash_loop_while_the_replicas_come_back():
    # six failed tasks (exit 137) in three minutes, none running: before the fix,
    # "crashloop 0/3" until every replacement ran
    for key in (
        "tasks_after_second_restart_preparing",
        "tasks_after_second_restart_ready",
        "tasks_after_second_restart_starting",
    ):
        snap = at(key)
        s1 = only(snap, "s1")
        assert not s1.crashloop, key
        assert s1.state == "starting", key
        assert (s1.running, s1.desired) == (0, 3)
        assert s1.last_exit == 137  # what happened is still told
        assert tasks_settling(snap), key


def test_once_running_the_service_is_running_and_settled():
    for key in ("tasks_after_second_restart_running", "tasks_after_first_restart_running"):
        snap = at(key)
        s1 = only(snap, "s1")
        assert (s1.state, s1.running, s1.desired, s1.crashloop) == ("running", 3, 3, False)
        assert not tasks_settling(snap)


def test_every_task_the_restarts_killed_is_an_engine_stop():
    tasks = DATA["tasks_after_second_restart_running"]
    failed = {t["ID"] for t in tasks if t["Status"]["State"] == "failed"}
    assert len(failed) == 6
    assert engine_stop_failures(tasks) == failed


def test_a_program_that_crashes_is_still_a_crash_loop():
    tasks = DATA["crash_tasks"]
    snap = build_snapshot(INFO, [], DATA["crash_services"], tasks, now=newest(tasks) + 1)
    crash = only(snap, "crash")
    assert crash.crashloop and crash.state == "crashloop"
    assert crash.last_exit == 3
    # the engine-restart failures of s1 are in the same list: only they are engine stops
    stops = engine_stop_failures(tasks)
    assert stops and all(
        t["Status"].get("Err") == "task: non-zero exit (137)" for t in tasks if t["ID"] in stops
    )
    crash_id = crash.service_id
    assert not any(t["ServiceID"] == crash_id for t in tasks if t["ID"] in stops)


def test_a_kill_that_the_neighbours_survived_counts():
    """Exit 137 while another task of the node kept running: the engine did not go."""
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tasks = [
        _task("svc", "a", 1, "running", base, since=0),
        _task("svc2", "b", 1, "failed", base, since=100, exit_code=137),
        _task("svc2", "c", 1, "failed", base, since=110, exit_code=137),
        _task("svc2", "d", 1, "pending", base, since=111, desired="running"),
    ]
    services = [_service("svc", 1), _service("svc2", 1)]
    snap = build_snapshot(INFO, [], services, tasks, now=(base.timestamp() + 112))
    assert engine_stop_failures(tasks) == set()
    assert only(snap, "svc2").crashloop


# -- generated: engine restarts (and crashes) of a one-node swarm ----------------


def _iso(base: datetime, seconds: float) -> str:
    return (base + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _task(service, tid, slot, state, base, since, exit_code=None, desired=None, node="node1"):
    status = {"Timestamp": _iso(base, since), "State": state, "Message": "started"}
    if exit_code is not None:
        status["Err"] = f"task: non-zero exit ({exit_code})"
        status["ContainerStatus"] = {"ContainerID": f"c-{tid}", "ExitCode": exit_code}
    if desired is None:
        desired = "shutdown" if state in ("failed", "shutdown", "rejected") else "running"
    return {
        "ID": tid,
        "ServiceID": service,
        "Slot": slot,
        "NodeID": node,
        "Spec": {"ContainerSpec": {"Image": "img"}},
        "Status": status,
        "DesiredState": desired,
    }


def _service(sid, replicas):
    return {"ID": sid, "Spec": {"Name": sid, "Mode": {"Replicated": {"Replicas": replicas}}}}


LATER_STATES = [
    "new",
    "pending",
    "assigned",
    "accepted",
    "preparing",
    "ready",
    "starting",
    "running",
]


@settings(max_examples=150, deadline=None)
@given(
    services=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    restarts=st.lists(
        st.tuples(st.floats(0, 0.05), st.sampled_from([137, 143, 255])), min_size=1, max_size=3
    ),
    final=st.data(),
)
def test_engine_restarts_alone_never_make_a_crash_loop(services, restarts, final):
    """Every restart kills every task of the node within 50 ms (a SIGKILL, SIGTERM or a
    lost exit) and swarm starts replacements; however many restarts in the window
    and wherever the replacements are, no service is a crash loop, its running count
    is the slots whose newest task runs, and it is settling exactly when a newest
    task is not running yet."""
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tasks = []
    running_slots: dict[str, int] = {}
    settling = False
    n = 0
    for s_index, replicas in enumerate(services):
        sid = f"svc{s_index}"
        for slot in range(1, replicas + 1):
            for r_index, (jitter, code) in enumerate(restarts):
                n += 1
                moment = 60.0 * (r_index + 1) + jitter
                tasks.append(_task(sid, f"t{n}", slot, "failed", base, moment, exit_code=code))
            state = final.draw(st.sampled_from(LATER_STATES))
            n += 1
            tasks.append(_task(sid, f"t{n}", slot, state, base, 60.0 * len(restarts) + 2))
            running_slots[sid] = running_slots.get(sid, 0) + (state == "running")
            settling = settling or state != "running"
    svcs = [_service(f"svc{i}", r) for i, r in enumerate(services)]
    snap = build_snapshot(INFO, [], svcs, tasks, now=base.timestamp() + 60.0 * len(restarts) + 3)
    for s_index, replicas in enumerate(services):
        svc = only(snap, f"svc{s_index}")
        assert not svc.crashloop
        assert (svc.running, svc.desired) == (running_slots[svc.name], replicas)
        assert svc.state != "crashloop"
    assert tasks_settling(snap) == settling


@settings(max_examples=150, deadline=None)
@given(
    replicas=st.integers(1, 4),
    crashes=st.integers(2, 4),
    code=st.integers(1, 136),
    neighbour=st.booleans(),
    final=st.sampled_from([s for s in LATER_STATES if s != "running"]),
)
def test_a_program_exiting_again_and_again_is_a_crash_loop(
    replicas, crashes, code, neighbour, final
):
    """Slot 1 exits with its own code (never a kill) ``crashes`` times and is not running
    now: a crash loop, with or without other services on the node."""
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tasks = []
    for i in range(crashes):
        tasks.append(_task("svc", f"x{i}", 1, "failed", base, 10.0 * (i + 1), exit_code=code))
    tasks.append(_task("svc", "x-now", 1, final, base, 10.0 * crashes + 1))
    for slot in range(2, replicas + 1):
        tasks.append(_task("svc", f"ok{slot}", slot, "running", base, 1))
    services = [_service("svc", replicas)]
    if neighbour:
        tasks.append(_task("other", "o1", 1, "running", base, 0))
        services.append(_service("other", 1))
    snap = build_snapshot(INFO, [], services, tasks, now=base.timestamp() + 10.0 * crashes + 2)
    svc = only(snap, "svc")
    assert svc.crashloop and svc.state == "crashloop"
    assert svc.last_exit == code


# -- when to read the task list again -------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_settle_schedule_backs_off_and_stops_when_settled():
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    moving = build_snapshot(
        INFO, [], [_service("svc", 1)], [_task("svc", "a", 1, "starting", base, 0)]
    )
    still = build_snapshot(
        INFO, [], [_service("svc", 1)], [_task("svc", "a", 1, "running", base, 0)]
    )
    clock = Clock()
    schedule = SettleSchedule(first=1.0, maximum=5.0, after_reconnect=15.0, clock=clock)
    assert [schedule.next_delay(moving) for _ in range(6)] == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert schedule.next_delay(still) is None
    assert schedule.next_delay(moving) == 1.0  # starts again from the first delay
    schedule.next_delay(still)
    schedule.reconnected()
    assert schedule.next_delay(still) == 1.0  # a reconnect settles for a while
    clock.now += 14.9
    assert schedule.next_delay(still) == 2.0
    clock.now += 0.2
    assert schedule.next_delay(still) is None


def test_settle_schedule_checks_soon_again_when_a_task_moves():
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def at_state(state):
        return build_snapshot(
            INFO, [], [_service("svc", 1)], [_task("svc", "a", 1, state, base, 0)]
        )

    schedule = SettleSchedule(first=1.0, maximum=5.0, clock=Clock())
    assert [schedule.next_delay(at_state("preparing")) for _ in range(3)] == [1.0, 2.0, 4.0]
    assert schedule.next_delay(at_state("starting")) == 1.0  # it moved: look again soon
    assert schedule.next_delay(at_state("starting")) == 2.0


def test_settle_schedule_knows_a_reconnect_from_the_first_connect():
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    still = build_snapshot(
        INFO, [], [_service("svc", 1)], [_task("svc", "a", 1, "running", base, 0)]
    )
    schedule = SettleSchedule(clock=Clock())
    schedule.engine_changed(False, True)  # connecting -> connected: not a reconnect
    assert schedule.next_delay(still) is None
    schedule.engine_changed(True, False)
    schedule.engine_changed(False, False)  # down, still down
    assert schedule.next_delay(still) is None
    schedule.engine_changed(False, True)
    assert schedule.next_delay(still) == 1.0


def test_a_task_no_node_can_take_is_not_polled_for():
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    waiting = _task("svc", "a", 1, "pending", base, 0)
    snap = build_snapshot(INFO, [], [_service("svc", 1)], [waiting])
    assert tasks_settling(snap)  # pending on its way: the scheduler is at it
    waiting["Status"]["Err"] = "no suitable node (insufficient resources on 1 node)"
    snap = build_snapshot(INFO, [], [_service("svc", 1)], [waiting])
    assert not tasks_settling(snap)  # waits for a change that sends an event of its own
