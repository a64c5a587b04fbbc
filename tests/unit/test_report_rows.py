"""core/report.py's typed rows and core/detail.py's detail pane, over recorded engine JSON."""

import json
from pathlib import Path

from mltui.core.detail import (
    Piece,
    detail,
    replica_of,
    row_ids_to,
    service_of,
    service_row_ids,
    waiting,
)
from mltui.core.engine import EngineInfo
from mltui.core.inventory import (
    GpuRequest,
    Replica,
    Service,
    Snapshot,
    Stack,
    build_snapshot,
    parse_time,
)
from mltui.core.report import COLUMNS, Level, RowId, Tone, rows

DATA = json.loads((Path(__file__).parent / "data" / "engine-swarm-sample.json").read_text())
INFO = EngineInfo(
    target="unix:///var/run/docker.sock", state="connected", swarm="active", swarm_manager=True
)
NOW = max(parse_time(t["Status"]["Timestamp"]) for t in DATA["tasks"]) + 5


def sample() -> Snapshot:
    return build_snapshot(
        INFO, DATA["containers"], DATA["services"], DATA["tasks"], DATA["inspect"], now=NOW
    )


def row_named(shown, name):
    return next(r for r in shown if r.cells[0] == name)


def text(pieces) -> str:
    return "".join(p.text for p in pieces)


def test_rows_name_what_they_show_by_typed_keys():
    snap = sample()
    shown = rows(snap, now=NOW)
    by_key = {s.key: s for s in snap.services()}
    for row in shown:
        assert row.level == int(row.id.level)
        assert row.key == row.id.key  # the table's key, never parsed back
        if row.id.level is Level.STACK:
            assert any(s.key == row.id.stack for s in snap.stacks)
            assert row.id.service == row.id.replica == ""
        elif row.id.level is Level.SERVICE:
            assert row.cells[0] == by_key[row.id.service].name
            assert row.id.replica == ""
        else:
            svc = by_key[row.id.service]
            assert row.id.replica in {r.key for r in svc.replicas}
            assert replica_of(snap, row.id).name == row.cells[0]
    ok = row_named(shown, "ok.2")
    assert ok.id == RowId(Level.REPLICA, "swarm:", ok.id.service, ok.id.replica)
    assert service_of(snap, ok.id).name == "ok"
    assert not ok.id.folds and row_named(shown, "ok").id.folds


def test_ready_is_have_and_want_as_ints_and_a_tone():
    shown = rows(sample(), now=NOW)
    for row in shown:
        assert len(row.tones) == len(row.cells) == len(COLUMNS)
        if row.id.level is Level.REPLICA:
            assert row.ready is None and row.cells[2] == ""
            continue
        have, want = row.ready
        assert row.cells[2] == f"{have}/{want}"
        expected = Tone.WARN if have != want else (Tone.OK if want else Tone.DIM)
        assert row.tones[2] is expected
    assert row_named(shown, "plain").ready == (1, 1)
    assert row_named(shown, "plain").tones[2] is Tone.OK
    assert row_named(shown, "ok").ready == (1, 2)


def test_state_health_restarts_and_gpu_tones():
    shown = rows(sample(), now=NOW)
    crash = row_named(shown, "crash")
    assert crash.cells[1] == "crashloop (exit 3)" and crash.tones[1] is Tone.ALERT
    assert crash.cells[6] == "3" and crash.tones[6] is Tone.WARN
    assert row_named(shown, "ok").tones[1] is Tone.WARN  # degraded
    assert row_named(shown, "ok.1").tones[1] is Tone.OK  # running
    assert row_named(shown, "ok.2").tones[1] is Tone.BUSY  # pending
    assert row_named(shown, "gpuc").tones[1] is Tone.DIM  # created
    assert row_named(shown, "rep").tones[7] is Tone.ACCENT  # a GPU request
    plain = row_named(shown, "plain")
    assert plain.cells[5] == "healthy" and plain.tones[5] is Tone.OK
    # a stack with services that are not ok is a warning, one with none is plain
    assert shown[0].cells[1] == "3 svc, 3 not ok" and shown[0].tones[1] is Tone.WARN


def _replica(name, state="running", health="", **kw) -> Replica:
    fields = {"key": f"id-{name}", "kind": "container", "slot": None, "since": NOW - 90}
    return Replica(name=name, state=state, image="img:1", health=health, **(fields | kw))


def _snapshot(*services: Service) -> Snapshot:
    return Snapshot(
        engine=INFO, stacks=(Stack(name="p", kind="compose", services=services),), taken_at=NOW
    )


def _service(name, replicas, desired=None, **kw) -> Service:
    return Service(
        key=f"compose:p/{name}",
        name=name,
        stack="p",
        kind="compose",
        desired=len(replicas) if desired is None else desired,
        running=sum(r.running for r in replicas),
        image="img:1",
        ports=(),
        replicas=tuple(replicas),
        **kw,
    )


def test_health_tones_follow_the_replicas_words():
    sick = _service("sick", [_replica("a", health="healthy"), _replica("b", health="unhealthy")])
    warming = _service("warm", [_replica("c", health="healthy"), _replica("d", health="starting")])
    done = _service("done", [_replica("e", state="exited")], desired=0)
    shown = rows(_snapshot(sick, warming, done), now=NOW)
    assert row_named(shown, "sick").cells[5] == "unhealthy (1)"
    assert row_named(shown, "sick").tones[5] is Tone.BAD
    assert row_named(shown, "b").tones[5] is Tone.BAD
    assert row_named(shown, "warm").cells[5] == "1/2 healthy"
    assert row_named(shown, "warm").tones[5] is Tone.WARN
    assert row_named(shown, "d").tones[5] is Tone.WARN
    assert row_named(shown, "a").tones[5] is Tone.OK
    assert row_named(shown, "done").ready == (0, 0)
    assert row_named(shown, "done").tones[2] is Tone.DIM
    assert row_named(shown, "done").tones[1] is Tone.DIM  # stopped


def test_a_finished_replica_has_a_dim_name():
    swarmish = _service("job", [_replica("job.1", state="complete"), _replica("job.2")])
    shown = rows(_snapshot(swarmish), now=NOW)
    assert row_named(shown, "job.1").tones[0] is Tone.DIM
    assert row_named(shown, "job.2").tones[0] is Tone.PLAIN


def _task(task_id, slot, state, desired) -> Replica:
    return _replica(
        f"loop.{slot}", state, key=task_id, kind="task", slot=slot, desired_state=desired
    )


def test_a_swarm_slot_keeps_its_row_key_when_swarm_replaces_its_task():
    """A crash loop: the task in slot 1 is replaced every few seconds (while the
    restart delay runs, the new task's desired state is "ready"). The row of the
    task meant to run in a slot is keyed by the slot, so a table updates it in
    place; an old task still listed in that slot keeps a key of its own."""

    def keys(*tasks):
        shown = rows(_snapshot(_service("loop", list(tasks))), now=NOW)
        return {r.id.replica: r.key for r in shown if r.id.level is Level.REPLICA}

    first = keys(_task("t1", 1, "running", "running"), _task("t2", 2, "running", "running"))
    waiting_ = keys(_task("t3", 1, "ready", "ready"), _task("t2", 2, "running", "running"))
    replaced = keys(
        _task("t1", 1, "failed", "shutdown"),
        _task("t4", 1, "running", "running"),
        _task("t2", 2, "running", "running"),
    )
    assert first["t1"] == waiting_["t3"] == replaced["t4"]  # slot 1's row, whichever task
    assert first["t2"] == waiting_["t2"] == replaced["t2"] != first["t1"]
    assert replaced["t1"] not in (replaced["t4"], replaced["t2"])  # the old task: its own row
    # two tasks meant for one slot (a moment in an update): keys stay unique
    both = keys(_task("t5", 1, "running", "running"), _task("t6", 1, "starting", "running"))
    assert len(set(both.values())) == 2
    # the slot is not part of the row's identity: the ids still name the task
    row = next(
        r
        for r in rows(_snapshot(_service("loop", [_task("t7", 1, "running", "running")])), now=NOW)
        if r.id.level is Level.REPLICA
    )
    assert row.id == RowId(Level.REPLICA, "compose:p", "compose:p/loop", "t7")


def test_detail_of_a_service_a_replica_and_a_stack():
    snap = sample()
    shown = rows(snap, now=NOW)
    crash = detail(snap, row_named(shown, "crash").id, NOW)
    assert crash[0] == Piece("crash", Tone.TITLE)
    assert text(crash).startswith("crash   swarm service, 0/1 running, crashloop  (replicated)")
    assert "\nrestarts 3" in text(crash)
    assert Piece("\nlast error: task: non-zero exit (3)", Tone.BAD) in crash
    rep = detail(snap, row_named(shown, "rep.1").id, NOW)
    assert rep[0] == Piece("rep.1", Tone.TITLE)
    assert text(rep).startswith("rep.1   task kkq10eyzld0c, pending")
    assert Piece("\nGPU request: NVIDIA-GPU=1", Tone.ACCENT) in rep
    stack = detail(snap, shown[0].id, NOW)
    assert text(stack) == "(swarm, no stack)   swarm stack, 3 services"
    # a row whose service has gone shows nothing
    gone = RowId(Level.SERVICE, "swarm:", "swarm:nope")
    assert detail(snap, gone, NOW) == () and detail(snap, None, NOW) == ()


def test_detail_makes_engine_text_safe():
    evil = _service(
        "evil\x1b]52;c;aGVsbG8=\x07",
        [_replica("r1", state="exited", exit_code=2, error="bad\x1b[2J")],
        last_error="boom\x1b[31m",
        restarts=1,
        last_exit=2,
        gpu=GpuRequest(count=1),
    )
    snap = _snapshot(evil)
    shown = rows(snap, now=NOW)
    for row in shown[1:]:
        assert "\x1b" not in text(detail(snap, row.id, NOW))
    svc_detail = detail(snap, shown[1].id, NOW)
    assert Piece("\nrestarts 1", Tone.WARN) in svc_detail
    assert Piece(", last exit code 2", Tone.WARN) in svc_detail
    assert Piece("\nGPU request: 1 GPU", Tone.ACCENT) in svc_detail
    rep_detail = detail(snap, shown[2].id, NOW)
    assert Piece("  exit 2", Tone.BAD) in rep_detail
    assert " for 1m" in text(rep_detail)


def test_waiting_says_why_there_is_no_inventory():
    assert waiting(None) == (Piece("reading the inventory…", Tone.DIM),)
    down = EngineInfo(target="unix:///x", state="down", message="no such socket")
    assert waiting(down)[0] == Piece("no such socket", Tone.BAD)
    assert waiting(down)[1].tone is Tone.DIM
    connecting = EngineInfo(target="unix:///x", state="connecting")
    assert waiting(connecting) == (Piece("connecting to the Docker engine…", Tone.WARN),)


def test_rows_to_a_service_and_every_service_row():
    snap = sample()
    svc = next(s for s in snap.services() if s.name == "plain")
    stack_row, service_row = row_ids_to(snap, svc.key)
    assert stack_row.key == "stack:none:" and service_row.key == f"svc:{svc.key}"
    assert row_ids_to(snap, "compose:nope/x") is None
    assert {r.service for r in service_row_ids(snap)} == {s.key for s in snap.services()}
