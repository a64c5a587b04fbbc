"""A real engine restart, not the socket proxy: a second dockerd (tests/second_engine.py)
with a one-node swarm is killed with SIGKILL and started again under a running TUI.

Issue 16, "Faults: the engine": after a real restart the demo's replica stayed
"starting" and its service "crashloop" for more than 30 s, until `r`. Swarm task
state changes send no engine event, the fallback poll is 300 s, and the tasks the
restart killed were counted as crashes. Here the app must come back to N/N running,
every replica running, without a crash loop at any moment and without a refresh
asked for; a container the engine restarted in place while it came up (same id,
same state, events from before anyone could subscribe) must show its new start.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import pytest
from second_engine import SecondEngine, alive, wait_for

from mltui.core.engine import Engine, EngineTarget, EngineUnavailable
from mltui.core.inventory import Inventory
from mltui.ui.app import MltuiApp

pytestmark = pytest.mark.engine

SIZE = (160, 48)
REPLICAS = 3
RECOVERY_S = 60.0  # from the engine answering again to everything shown running


def host_gwbridge_addresses() -> list[str]:
    """The IPv4 addresses of the host's docker_gwbridge (the main engine's)."""
    out = subprocess.run(
        ["ip", "-o", "-4", "addr", "show", "dev", "docker_gwbridge"], capture_output=True
    )
    return sorted(line.split()[3] for line in out.stdout.decode().splitlines())


@pytest.fixture(scope="module")
def second_engine(test_image):
    engine = SecondEngine()
    before = host_gwbridge_addresses()
    try:
        engine.start()
        engine.load_image(test_image)
        engine.swarm_init()
        # its swarm left the main engine's gateway bridge as it was
        assert host_gwbridge_addresses() == before, engine.log_tail()
        yield engine
    finally:
        engine.close()


async def until(pilot, predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def service(app, name):
    snapshot = app.snapshot
    if snapshot is None:
        return None
    return next((s for s in snapshot.services() if s.name == name), None)


async def test_the_tui_recovers_from_a_real_engine_restart_by_itself(second_engine, test_image):
    engine = second_engine
    engine.docker(
        "service",
        "create",
        "--detach",
        "--name",
        "restarted",
        "--replicas",
        str(REPLICAS),
        test_image,
        "sleep",
        "infinity",
    )
    engine.docker(
        "run", "-d", "--restart", "always", "--name", "in-place", test_image, "sleep", "infinity"
    )
    app = MltuiApp(
        engine_factory=lambda: Engine(EngineTarget(engine.url, "test"), timeout=5),
        poll_interval=300,  # the fallback poll must not be what recovers
    )

    def all_running() -> bool:
        svc = service(app, "restarted")
        return bool(
            svc
            and (svc.state, svc.running, svc.desired) == ("running", REPLICAS, REPLICAS)
            and all(r.state == "running" for r in svc.replicas)
            and not svc.crashloop
        )

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, all_running, 60, "the service running before the restart")
        before = service(app, "in-place").replicas[0].since
        assert before is not None

        ids = engine.docker("ps", "-q", "--filter", "label=com.docker.swarm.service.name=restarted")
        pids = [
            int(p)
            for p in engine.docker(
                "inspect", "-f", "{{.State.Pid}}", "in-place", *ids.split()
            ).split()
        ]
        assert len(pids) == 1 + REPLICAS
        killed_at = time.time()
        engine.kill()
        # Every program dies while the engine is away, as they do when the host's
        # containers go with the daemon (whether a quick restart finds its tasks still
        # running is a matter of timing; this makes swarm replace all of them). The
        # engine restarts "in-place" itself (same id, "running" again) before it
        # answers, and that container's events come before anyone can subscribe.
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        await asyncio.to_thread(
            wait_for, lambda: not any(alive(p) for p in pids), 10, "the programs to end"
        )
        await until(pilot, lambda: not app.engine_info.connected, 30, "the engine seen gone")
        await asyncio.to_thread(engine.start)
        up_at = time.monotonic()

        seen: list[tuple[str, int, tuple[str, ...]]] = []
        refreshes = []
        app.action_refresh = lambda: refreshes.append(1)  # nobody presses `r`

        def recovered() -> bool:
            svc = service(app, "restarted")
            if svc is not None:
                state = (svc.state, svc.running, tuple(r.state for r in svc.replicas))
                if not seen or seen[-1] != state:
                    seen.append(state)
            loose = service(app, "in-place")
            restarted_in_place = bool(
                loose
                and loose.replicas[0].state == "running"
                and (loose.replicas[0].since or 0) >= killed_at
            )
            # running again means the replacements run, not the killed tasks that
            # the engine still shows as running for a while after it restarts
            replaced = bool(svc and all((r.since or 0) >= killed_at for r in svc.replicas))
            return app.engine_info.connected and all_running() and replaced and restarted_in_place

        try:
            await until(pilot, recovered, RECOVERY_S, "the app to show the engine recovered")
        except AssertionError as exc:
            loose = service(app, "in-place")
            raise AssertionError(
                f"{exc}; engine {app.engine_info.state}; states seen: {seen}; "
                f"in-place: {loose and loose.replicas[0]}, killed at {killed_at}"
            ) from None
        took = time.monotonic() - up_at
        assert not refreshes
        assert not [s for s in seen if s[0] == "crashloop"], seen
        # the tasks the restart killed are history, not crashes, and are told as such
        svc = service(app, "restarted")
        assert svc.restarts >= REPLICAS and svc.last_exit == 137
        print(f"recovered {took:.1f} s after the engine answered; states seen: {seen}")


def test_inventory_through_a_real_restart(second_engine, test_image):
    """The Inventory alone: a sentence while the engine is away, the same services
    after, and a container restarted in place read afresh once told to forget."""
    engine = second_engine
    engine.docker(
        "run", "-d", "--restart", "always", "--name", "inv-loose", test_image, "sleep", "infinity"
    )
    inventory = Inventory(Engine(EngineTarget(engine.url, "test"), timeout=5))
    try:
        first = inventory.snapshot()
        assert first.engine.connected and first.engine.swarm == "active"
        keys = {s.key for s in first.services()}
        pid = int(engine.docker("inspect", "-f", "{{.State.Pid}}", "inv-loose"))
        killed_at = time.time()
        engine.kill()
        with pytest.raises(EngineUnavailable) as caught:
            inventory.snapshot()
        assert caught.value.message.startswith(f"no Docker engine answers at {engine.url}")
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not alive(pid), 10, "the program to end")
        engine.start()
        again = wait_for(lambda: _snapshot_or_none(inventory), 30, "a snapshot after the restart")
        assert again.engine.connected
        assert {s.key for s in again.services()} >= keys
        inventory.invalidate()  # what the app does at every connect
        loose = next(s for s in inventory.snapshot().services() if s.name == "inv-loose")
        assert loose.state == "running" and (loose.replicas[0].since or 0) >= killed_at
    finally:
        inventory.engine.close()


def _snapshot_or_none(inventory):
    try:
        return inventory.snapshot()
    except EngineUnavailable:
        return None
