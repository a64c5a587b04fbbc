"""Logs from real containers, a real compose project and a real 4-replica swarm service."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import time

import pytest
from helpers import COMPOSE_V2, STACKS, docker, run, wait_for

from mltui.core.engine import Engine
from mltui.core.inventory import Inventory
from mltui.core.logs import LogSession, Stream, find_service, origin_stream, sources_of

pytestmark = pytest.mark.engine

TALK = STACKS / "talk.py"
LINES = 40


def mltui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mltui.cli", *args],
        capture_output=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def service_of(name: str):
    engine = Engine()
    try:
        return find_service(Inventory(engine).snapshot(), name)
    finally:
        engine.close()


def printed_all(name: str, replicas: int, count: int = LINES):
    """Until every replica of ``name`` printed its ``count`` lines."""

    def probe():
        out = mltui("logs", name, "--json")
        if out.returncode != 0:
            return None
        rows = [json.loads(line) for line in out.stdout.decode().splitlines()]
        per = {}
        for row in rows:
            per.setdefault(row["replica"], []).append(row)
        if len(per) == replicas and all(len(v) >= count for v in per.values()):
            return rows
        return None

    return wait_for(f"{replicas} replicas of {name} to print {count} lines", probe, timeout=90)


@pytest.fixture(scope="module")
def talkers(swarm, test_image, run_id):
    """A 4-replica swarm service whose replicas print at the same time."""
    name = f"{run_id}-talk"
    docker(
        "service",
        "create",
        "--detach",
        "--name",
        name,
        "--replicas",
        "4",
        "--label",
        f"mltui.test={run_id}",
        "--container-label",
        f"mltui.test={run_id}",
        "--mount",
        f"type=bind,src={TALK},dst=/talk.py,readonly",
        test_image,
        "python3",
        "/talk.py",
        str(LINES),
    )
    try:
        yield name
    finally:
        docker("service", "rm", name, check=False)


def check_merged(rows: list[dict], service) -> None:
    """Time order, tags that name real replicas, each replica's own order kept."""
    times = [row["time"] for row in rows]
    assert times == sorted(times), "merged lines are not in timestamp order"
    by_tag = {src.tag: src.key for src in sources_of(service)}
    per: dict[str, list[int]] = {}
    for row in rows:
        host, number = row["line"].split()
        # each line was printed by the container its tag names (hostname = short id)
        assert by_tag[row["replica"]].startswith(host), row
        assert row["stream"] == ("stderr" if int(number) % 10 == 9 else "stdout")
        per.setdefault(row["replica"], []).append(int(number))
    for numbers in per.values():
        assert numbers == list(range(len(numbers)))


def test_swarm_service_logs_merge_four_replicas_in_time_order(talkers):
    rows = printed_all(talkers, 4)
    assert len(rows) == 4 * LINES
    service = service_of(talkers)
    assert {row["replica"] for row in rows} == {f"{service.name}.{n}" for n in range(1, 5)}
    check_merged(rows, service)
    # they printed at the same time: the merge really interleaves them (blocks of
    # one replica after another would switch replicas 3 times)
    tags = [row["replica"] for row in rows]
    assert sum(a != b for a, b in itertools.pairwise(tags)) > 3

    # one replica only, the last lines, a filter
    one = mltui("logs", talkers, "--replica", "2", "--tail", "5", "--json")
    rows2 = [json.loads(line) for line in one.stdout.decode().splitlines()]
    assert [r["replica"] for r in rows2] == [f"{service.name}.2"] * 5
    assert [int(r["line"].split()[1]) for r in rows2] == list(range(LINES - 5, LINES))
    grep = mltui("logs", talkers, "--grep", r" 1[0-9]$")
    text = grep.stdout.decode().splitlines()
    assert len(text) == 4 * 10
    assert all(re.fullmatch(rf"{re.escape(service.name)}\.[1-4] \| \w+ 1\d", t) for t in text)


def test_compose_service_logs_with_tags_and_timestamps(test_image, run_id):
    project = f"{run_id}logs"
    env = {"MLTUI_TEST_IMAGE": test_image, "MLTUI_TALK_LINES": str(LINES)}
    compose = [COMPOSE_V2, "-p", project, "-f", str(STACKS / "compose-logs.yml")]
    run([*compose, "up", "-d"], env=env)
    try:
        rows = printed_all(f"{project}/talker", 3)
        service = service_of(f"{project}/talker")
        assert service.kind == "compose"
        assert {r["replica"] for r in rows} == {"talker.1", "talker.2", "talker.3"}
        check_merged(rows, service)
        text = mltui("logs", f"{project}/talker", "-t", "--tail", "2")
        lines = text.stdout.decode().splitlines()
        assert len(lines) == 6
        for line in lines:
            assert re.fullmatch(
                r"talker\.[1-3] \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \w+ 3[89]", line
            ), line
    finally:
        subprocess.run(
            [*compose, "down", "-t", "1"],
            env={**os.environ, **env},
            capture_output=True,
            check=False,
        )


def test_follow_picks_up_the_replica_that_replaces_a_killed_one(talkers):
    printed_all(talkers, 4)
    service = service_of(talkers)
    engine = Engine()
    session = LogSession(engine, sources_of(service), tail=0, follow=True).start()
    try:
        victim = next(s for s in session.sources if s.tag == f"{service.name}.3")
        wait_for("the session to follow", lambda: all(st.following for st in session._states))
        docker("kill", victim.key)
        seen: list[tuple[str, str]] = []

        def replacement_talks():
            session.update(sources_of(service_of(talkers)))
            chunk = session.take()
            seen.extend(
                (session.name_of(origin), line[31:])
                for line, origin in zip(chunk.lines, chunk.origins, strict=True)
            )
            new = [tag for tag, text in seen if tag.startswith(f"{service.name}.3#")]
            return new if len(new) >= LINES else None

        wait_for("the new replica's lines", replacement_talks, timeout=90, interval=0.5)
        ended = [i for i, (tag, text) in enumerate(seen) if text == f"── {service.name}.3 ended ──"]
        assert ended, "the killed replica was not marked as ended"
        first_new = next(
            i for i, (tag, _) in enumerate(seen) if tag.startswith(f"{service.name}.3#")
        )
        assert ended[0] < first_new
        assert session.state_of(victim_index(session, victim.key)) == "ended"
    finally:
        session.close()
        engine.close()


def victim_index(session: LogSession, key: str) -> int:
    return next(i for i, src in enumerate(session.sources) if src.key == key)


HOSTILE = (
    "printf 'clip\\033]52;c;ZXZpbA==\\007board\\n'"
    "; printf 'title\\033]0;pwned\\033\\\\\\n'"
    "; printf '\\033[?1049halt screen\\n'"
    "; printf '\\033[2J\\033[Hcleared\\n'"
    "; printf 'bell\\007\\n'"
    "; printf 'over\\rwrite\\n'"
    "; printf '\\033[31mred\\033[0m\\n'"
    "; printf 'bad utf8 \\377\\376\\n'"
    "; printf 'c1 \\302\\233 31m\\n'"
    "; printf '\\033P1;2|dcs\\033\\\\\\n'"
    "; printf 'bidi \\342\\200\\256evil\\n'"
    "; printf 'tab\\there\\n'"
)


def test_hostile_output_never_reaches_the_terminal(container_factory):
    name = container_factory("hostile-logs", command=("sh", "-c", HOSTILE))
    wait_for("the corpus", lambda: b"tab" in mltui("logs", name).stdout)
    out = subprocess.run(
        [sys.executable, "-m", "mltui.cli", "logs", name],
        capture_output=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "NO_COLOR"},
    ).stdout
    text = out.decode("utf-8")
    without_sgr = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", without_sgr), repr(text)
    lines = [line.split(" | ", 1)[1] for line in without_sgr.splitlines()]
    assert lines == [
        "clip␛]52;c;ZXZpbA==␇board",
        "title␛]0;pwned␛\\",
        "alt screen",
        "cleared",
        "bell␇",
        "over␍write",
        "red",
        "bad utf8 \ufffd\ufffd",
        "c1 \ufffd 31m",
        "␛P1;2|dcs␛\\",
        "bidi \ufffdevil",
        "tab     here",
    ]


def json_rows(name: str, count: int) -> list[dict]:
    """`mltui logs NAME --json`, once it has ``count`` rows."""

    def probe():
        rows = [json.loads(x) for x in mltui("logs", name, "--json").stdout.splitlines()]
        return rows if len(rows) == count else None

    return wait_for(f"{count} lines of {name}", probe)


def test_a_long_line_of_a_tty_container_comes_back_whole(container_factory):
    # the engine cuts lines at 16 KiB and stamps each piece; a TTY stream has no
    # frames to say where a piece starts, so the stamps sit inside the line
    script = 'head -c 40000 /dev/zero | tr "\\0" a; echo; echo next; sleep infinity'
    name = container_factory("tty-long", "-t", command=("sh", "-c", script))
    rows = json_rows(name, 2)
    assert rows[0]["line"] == "a" * 40000
    assert rows[1]["line"] == "next"


def test_a_progress_bar_shows_its_latest_state(container_factory):
    # a progress bar redrawn 20,000 times with carriage returns is one 260 kB line,
    # which the engine sends in 16 KiB pieces; its end is the state to show
    script = (
        'i=0; while [ $i -lt 20000 ]; do printf "\\r%6d/20000" $i; i=$((i+1)); done;'
        " echo; echo done; sleep infinity"
    )
    name = container_factory("progress", command=("sh", "-c", script))
    rows = json_rows(name, 2)
    assert rows[0]["line"].startswith("(194464 earlier characters) … ")
    assert rows[0]["line"].endswith("\u240d 19998/20000\u240d 19999/20000")
    assert rows[1]["line"] == "done"


def test_a_bounded_session_keeps_the_newest_lines_and_counts_the_dropped(container_factory):
    name = container_factory(
        "flood-logs",
        command=(
            "python3",
            "-c",
            "import sys\nfor i in range(50000): print(i)\nsys.stdout.flush()",
        ),
    )
    wait_for(
        "the flood to end",
        lambda: docker("inspect", "-f", "{{.State.Running}}", name).strip() == "false",
    )
    service = service_of(name)
    engine = Engine()
    try:
        session = LogSession(
            engine, sources_of(service), tail=None, follow=False, max_lines=1000
        ).start()
        got, dropped = [], 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            more = session.wait(0.5)
            chunk = session.take()
            got += chunk.lines
            dropped += chunk.dropped
            if not more and session.finished:
                break
        assert [int(line[31:]) for line in got] == list(range(49000, 50000))
        assert dropped == 49000
    finally:
        session.close()
        engine.close()


def test_a_stopped_containers_history_still_shows(container_factory):
    name = container_factory(
        "stopped-logs", "-v", f"{TALK}:/talk.py:ro", command=("python3", "/talk.py", "12", "--exit")
    )
    wait_for(
        "the container to exit",
        lambda: docker("inspect", "-f", "{{.State.Status}}", name).strip() == "exited",
    )
    out = mltui("logs", name, "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert [int(r["line"].split()[1]) for r in rows] == list(range(12))
    # following a stopped container prints its history and ends with a note
    follow = mltui("logs", name, "--follow", "--tail", "2", timeout=30)
    assert follow.returncode == 0
    assert follow.stdout.decode().splitlines()[-1].endswith(f"── {name} ended ──")
    # nothing since a time in the future; a bad --since is one clear sentence
    assert mltui("logs", name, "--since", "2099-01-01T00:00:00Z").stdout == b""
    bad = mltui("logs", name, "--since", "soon")
    assert bad.returncode == 2 and b"give a duration" in bad.stderr
    assert b"Traceback" not in bad.stderr


def test_an_engine_that_goes_away_and_comes_back_loses_and_repeats_no_line(
    container_factory, tmp_path
):
    from helpers import UnixProxy

    from mltui.core.engine import EngineTarget

    count = 300
    name = container_factory(
        "engine-restart-logs",
        command=(
            "python3",
            "-c",
            f"import time\nfor i in range({count}):\n    print(i, flush=True)\n    time.sleep(0.02)\n"
            "time.sleep(3600)",
        ),
    )
    proxy = UnixProxy(str(tmp_path / "engine.sock"))
    proxy.start()
    engine = Engine(EngineTarget(proxy.url, "test"), timeout=5)
    service = service_of(name)
    session = LogSession(engine, sources_of(service), tail=None, follow=True).start()
    numbers: list[int] = []
    notes: list[str] = []

    def take() -> None:
        chunk = session.take()
        for line, origin in zip(chunk.lines, chunk.origins, strict=True):
            if origin_stream(origin) == Stream.NOTE:
                notes.append(line[31:])
            else:
                numbers.append(int(line[31:]))

    try:
        wait_for("some lines", lambda: take() or len(numbers) > 20)
        proxy.stop()  # the engine goes away mid-stream
        wait_for(
            "the reader to notice",
            lambda: take() or any("trying again" in n for n in notes),
            timeout=30,
            interval=0.1,
        )
        proxy.start()
        wait_for("every line", lambda: take() or len(numbers) >= count, timeout=60)
        # a line written after the last one: once it is read, whatever the reader
        # would have repeated before it (its stream is in order) has been read too
        docker("exec", name, "python3", "-c", f"open('/proc/1/fd/1', 'w').write('{count}\\n')")
        wait_for("the line written last", lambda: take() or count in numbers, timeout=30)
        assert numbers.pop() == count
        assert numbers == list(range(count))
        assert any("trying again" in n for n in notes), notes
        assert any("reading again" in n for n in notes), notes
        assert not any("ended" in n for n in notes), notes
    finally:
        session.close()
        engine.close()
        proxy.stop()


def test_a_stale_snapshot_that_restarts_an_ended_reader_marks_the_end_once(container_factory):
    name = container_factory("logs-stale", command=("python3", "-c", "print('one')\nprint('two')"))
    wait_for(
        "the container to exit",
        lambda: docker("inspect", "-f", "{{.State.Status}}", name).strip() == "exited",
    )
    (source,) = sources_of(service_of(name))
    engine = Engine()
    session = LogSession(engine, [source], tail=None, follow=True).start()
    lines: list[str] = []
    try:
        wait_for("the end", lambda: lines.extend(session.take().lines) or session.all_ended)
        # a snapshot taken before the container stopped says it runs: read again
        session.update([type(source)(source.key, source.tag, source.kind, True)])
        # (update marks the reader as not ended at once; it ends again once it has
        # read the stream again and found the container stopped)
        wait_for(
            "the reader to end again",
            lambda: lines.extend(session.take().lines) or session.all_ended,
            interval=0.1,
        )
        lines.extend(session.take().lines)
    finally:
        session.close()
        engine.close()
    assert [line[31:] for line in lines] == ["one", "two", f"── {name} ended ──"]
