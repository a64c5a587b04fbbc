"""Logs of one replica or of a whole service, merged across replicas in time order.

A :class:`LogSession` follows a set of :class:`LogSource` (containers, or swarm
tasks whose container is on another node): one reader thread per source, one
merge thread. Each reader first reads the history (``tail``/``since``) and then
follows from the last timestamp it saw, so a reconnect or a restarted container
loses no line and repeats none. The merge thread orders lines by their engine
timestamps: the histories all together once they are in, live lines as soon as
every following source has got past them, or after ``hold`` seconds.

Consumers (the TUI at a frame rate, ``mltui logs``) call :meth:`LogSession.take`
for what was merged since their last call. Lines are ``"<ts> <text>"`` strings
(see :mod:`mltui.core.logstream`); each has a tag, ``(source index << 2) | stream``
with stream 1 stdout, 2 stderr, 3 a note of mltui or the engine (a replica ended,
an error). Memory is bounded: a view keeps ``max_lines`` and counts what it drops.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .engine import Backoff, Engine, EngineError, EngineUnavailable
from .inventory import Replica, Service, Snapshot
from .logstream import ENGINE, TS_LEN, LogDecoder, LogStreamError, strip_sgr
from .textsafe import safe_text

DEFAULT_MAX_LINES = 100_000
NOTE = ENGINE  # stream code of mltui's own notes in a view
_ZERO_TS = "0000-00-00T00:00:00.000000000Z"
# swarm task states after which a task has (had) a container with logs
_STARTED = frozenset({"starting", "running", "complete", "failed", "shutdown"})


@dataclass(frozen=True)
class LogSource:
    """One replica whose logs can be read."""

    key: str  # container id, or task id when its container is not on this engine
    tag: str  # what each of its lines is marked with: "model.1", "web-2", "nb"
    kind: str = "container"  # container | task
    running: bool = True
    tty: bool = False

    @property
    def path(self) -> str:
        return f"/{'tasks' if self.kind == 'task' else 'containers'}/{self.key}/logs"


def replica_tag(service: Service, rep: Replica) -> str:
    if rep.slot is not None and service.kind in ("swarm", "compose"):
        return f"{service.name}.{rep.slot}"
    return rep.name or rep.key[:12]


def sources_of(service: Service, replica: int | None = None) -> list[LogSource]:
    """The readable replicas of ``service`` (all of them, or slot/number ``replica``),
    by slot, oldest first within a slot. Tags are unique: a second replica in the
    same slot (swarm replaced one) gets its short id added."""
    out: list[LogSource] = []
    seen: set[str] = set()
    reps = sorted(
        service.replicas,
        key=lambda r: (r.slot if r.slot is not None else 1 << 30, r.since or 0.0, r.key),
    )
    for rep in reps:
        if replica is not None and rep.slot != replica:
            continue
        if rep.container_id:
            key, kind = rep.container_id, "container"
        elif rep.kind == "task" and rep.key and rep.state in _STARTED:
            key, kind = rep.key, "task"  # its container is on another node
        else:
            continue
        tag = replica_tag(service, rep)
        if tag in seen:
            tag = f"{tag}#{key[:4]}"
        seen.add(tag)
        out.append(LogSource(key=key, tag=tag, kind=kind, running=rep.running))
    return out


def find_service(snapshot: Snapshot, name: str) -> Service:
    """A service by ``name``, ``stack/name``, the engine's full name, or the name
    (or id prefix) of one of its containers. LookupError with the candidates."""
    services = [svc for stack in snapshot.stacks for svc in stack.services]
    exact = [
        svc
        for svc in services
        if name in (svc.name, f"{svc.stack}/{svc.name}", svc.full_name, svc.key)
    ]
    if not exact:
        exact = [
            svc
            for svc in services
            if any(
                name in (r.name, r.key) or (len(name) >= 4 and r.container_id.startswith(name))
                for r in svc.replicas
            )
        ]
    if len(exact) == 1:
        return exact[0]
    if not exact:
        raise LookupError(f"no service or container named {safe_text(name)!r}")
    names = ", ".join(sorted(f"{s.stack}/{s.name}" for s in exact))
    raise LookupError(f"{safe_text(name)!r} names several services: {names}; say which")


def ts_to_unix(ts: str) -> str | None:
    """``2026-11-26T21:14:19.628794017Z`` -> ``1795727659.628794017`` (the engine's
    ``since``/``until`` form, to the nanosecond); None for a time it cannot be."""
    try:
        moment = datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    frac = ts[20:29]
    return f"{int(moment.timestamp())}.{frac if frac.isdigit() else '0'}"


def unix_to_ts(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_since(value: str, now: float | None = None) -> float:
    """``--since``: a duration back from now (``90s``, ``5m``, ``2h``, ``1d``; a bare
    number is seconds), an RFC 3339 time, or a Unix time. ValueError otherwise."""
    now = time.time() if now is None else now
    m = _DURATION.match(value)
    if m and not (m.group(2) == "" and float(m.group(1)) > 10**8):
        factor = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return now - float(m.group(1)) * factor
    try:
        if _DURATION.match(value):
            return float(value)
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since {safe_text(value)!r}: give a duration (30s, 5m, 2h, 1d) or a time "
            "(2026-11-26T10:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.timestamp()


class LogBuffer:
    """The lines of one view, oldest first, at most ``max_lines`` of them.

    ``first`` is the absolute number of the first line kept (= how many were
    dropped), so positions stay meaningful while old lines go.
    """

    def __init__(self, max_lines: int = DEFAULT_MAX_LINES) -> None:
        self.max_lines = max(1, int(max_lines))
        self.lines: list[str] = []
        self.tags = array("H")
        self.first = 0

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def dropped(self) -> int:
        return self.first

    @property
    def end(self) -> int:
        """Absolute number one past the last line."""
        return self.first + len(self.lines)

    def extend(self, lines: Sequence[str], tags: Iterable[int]) -> int:
        """Append; returns how many old lines were dropped to stay in bounds."""
        self.lines.extend(lines)
        self.tags.extend(tags)
        excess = len(self.lines) - self.max_lines
        if excess > 0:
            del self.lines[:excess]
            del self.tags[:excess]
            self.first += excess
            return excess
        return 0

    def clear(self) -> None:
        self.first += len(self.lines)
        self.lines.clear()
        self.tags = array("H")


@dataclass
class _SourceState:
    source: LogSource
    index: int
    history: LogBuffer  # what was read before following, kept within max_lines
    history_done: bool = False
    pending: list[tuple[float, list[str], array]] = field(default_factory=list)
    last_ts: str = ""
    same_ts_seen: int = 0  # lines read with ts == last_ts (skipped when following again)
    following: bool = False
    ended: bool = False
    thread: threading.Thread | None = None
    stream: Any = None
    error: str = ""
    failing: bool = False  # the last read failed: the next open says "reading again"
    joined: bool = False  # came in after the start (a replacement): all its lines are new
    ended_at: str = "\0"  # last_ts when its end was marked


@dataclass
class LogChunk:
    """What :meth:`LogSession.take` hands over."""

    lines: list[str]
    tags: array
    dropped: int = 0  # lines the session had to drop because nobody took them in time


class LogSession:
    """Follow (or read once) the logs of ``sources``, merged by time."""

    def __init__(
        self,
        engine: Engine,
        sources: Sequence[LogSource],
        *,
        tail: int | None = 1000,
        since: float | None = None,
        follow: bool = True,
        max_lines: int = DEFAULT_MAX_LINES,
        hold: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.tail = tail
        self.since = since
        self.follow = follow
        self.max_lines = max(1, int(max_lines))
        self.hold = hold
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._states: list[_SourceState] = []
        self._by_key: dict[str, _SourceState] = {}
        self._out_lines: list[str] = []
        self._out_tags = array("H")
        self._out_dropped = 0
        self._history_merged = False
        self._closed = False
        self._closed_input = False
        self._stop = threading.Event()
        self._merger: threading.Thread | None = None
        self.version = 0  # bumped whenever something new can be taken
        for src in sources:
            self._add(src)

    # -- what the session follows ------------------------------------------------
    @property
    def sources(self) -> list[LogSource]:
        return [st.source for st in self._states]

    def tag_of(self, tag: int) -> str:
        index = tag >> 2
        return self._states[index].source.tag if index < len(self._states) else "?"

    def tags(self) -> list[str]:
        return [st.source.tag for st in self._states]

    def state_of(self, index: int) -> str:
        st = self._states[index]
        if st.error:
            return st.error
        if st.ended:
            return "ended"
        return "following" if st.following else "reading"

    @property
    def all_ended(self) -> bool:
        """Every source's stream ended (its container stopped) and all was merged."""
        with self._lock:
            return (
                self._history_merged
                and all(st.ended for st in self._states)
                and not any(st.pending for st in self._states)
                and not self._out_lines
            )

    @property
    def loading(self) -> bool:
        return not self._history_merged

    def _add(self, src: LogSource) -> _SourceState:
        st = _SourceState(source=src, index=len(self._states), history=LogBuffer(self.max_lines))
        self._states.append(st)
        self._by_key[src.key] = st
        return st

    def start(self) -> LogSession:
        for st in self._states:
            self._start_reader(st, history=True)
        self._merger = threading.Thread(
            target=self._merge_loop, name="mltui-logs-merge", daemon=True
        )
        self._merger.start()
        return self

    def update(self, sources: Sequence[LogSource]) -> None:
        """The replicas now (from a fresh snapshot): follow new ones, follow again
        those that run again (a restarted container, a reconnected engine)."""
        for src in sources:
            with self._lock:
                st = self._by_key.get(src.key)
                if st is None:
                    used = {s.source.tag for s in self._states}
                    tag = src.tag if src.tag not in used else f"{src.tag}#{src.key[:4]}"
                    st = self._add(LogSource(src.key, tag, src.kind, src.running, src.tty))
                    st.history_done = True  # its history joins the live merge
                    st.joined = True
                    fresh = True
                else:
                    old = st.source
                    st.source = LogSource(old.key, old.tag, src.kind, src.running, old.tty)
                    fresh = False
                alive = st.thread is not None and st.thread.is_alive()
            if not self.follow or self._closed:
                continue
            if fresh:
                self._start_reader(st, history=True)
            elif src.running and not alive:
                st.ended = False
                st.error = ""
                self._start_reader(st, history=False)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._closed = True
            streams = [st.stream for st in self._states if st.stream is not None]
            self._wake.notify_all()
        for stream in streams:
            stream.close()

    # -- readers -----------------------------------------------------------------
    def _start_reader(self, st: _SourceState, history: bool) -> None:
        st.thread = threading.Thread(
            target=self._read_source,
            args=(st, history),
            name=f"mltui-logs-{st.source.tag}",
            daemon=True,
        )
        st.thread.start()

    def _open(self, st: _SourceState, follow: bool, first: bool) -> Any:
        params: dict[str, Any] = {"stdout": 1, "stderr": 1, "timestamps": 1}
        if first:
            tail = None if st.joined else self.tail  # a replacement: from its first line
            params["tail"] = "all" if tail is None else str(max(0, tail))
            if self.since is not None:
                params["since"] = f"{self.since:.9f}"
        else:
            params["tail"] = "all"
            since = ts_to_unix(st.last_ts) if st.last_ts else None
            if since is not None:
                params["since"] = since
            elif self.since is not None:
                params["since"] = f"{self.since:.9f}"
        if follow:
            params["follow"] = 1
        return self.engine.open_logs(st.source.path, params, follow=follow)

    def _read_source(self, st: _SourceState, history: bool) -> None:
        try:
            self._read_source_loop(st, history)
        except Exception as exc:  # a bug must not end the view silently: say so
            st.following = False
            with self._lock:
                st.history_done = True
            self._note(st, f"{st.source.tag}: stopped reading ({type(exc).__name__}: {exc})", True)

    def _read_source_loop(self, st: _SourceState, history: bool) -> None:
        backoff = Backoff()
        if history:
            try:
                tty = self._tty(st.source)
                st.source = LogSource(
                    st.source.key, st.source.tag, st.source.kind, st.source.running, tty
                )
                self._pump(st, follow=False, first=True)
            except (EngineError, LogStreamError) as exc:
                self._note(st, f"{st.source.tag}: {exc}", error=True)
            finally:
                with self._lock:
                    st.history_done = True
                    self._wake.notify_all()
        if not self.follow:
            return
        st.failing = False
        while not self._closed:
            st.following = True
            problem = ""
            try:
                # from the last line read (none yet: the tail/since of the view)
                if self._pump(st, follow=True, first=not st.last_ts):
                    running = self._still_running(st.source)
                else:
                    running, problem = None, "the log stream broke off"
            except EngineUnavailable as exc:
                running, problem = None, exc.message
            except (EngineError, LogStreamError) as exc:
                st.following = False
                self._note(st, f"{st.source.tag}: {exc}", error=True)
                return
            st.following = False
            if self._closed:
                return
            if running is None:  # the engine went away: nothing is lost, read on later
                if not st.failing:
                    st.failing = True
                    self._note(
                        st, f"{st.source.tag}: {problem or 'engine gone'}; trying again", error=True
                    )
                self._stop.wait(backoff.next())
                continue
            backoff.reset()
            if running:  # the stream ended, the container runs: follow again
                self._stop.wait(0.5)
                continue
            st.ended = True
            if st.ended_at != st.last_ts or not st.last_ts:
                # (a stale snapshot can restart a reader that had just ended: it
                # reads nothing new, and one mark of the end is enough)
                st.ended_at = st.last_ts
                self._note(st, f"── {st.source.tag} ended ──")
            return

    def _tty(self, src: LogSource) -> bool:
        if src.kind != "container":
            return False
        try:
            config = self.engine.inspect_container(src.key).get("Config") or {}
        except EngineError:
            return False
        return bool(isinstance(config, dict) and config.get("Tty"))

    def _still_running(self, src: LogSource) -> bool | None:
        """Whether the replica runs; None when the engine cannot say (gone)."""
        try:
            if src.kind == "container":
                state = self.engine.inspect_container(src.key).get("State") or {}
                return bool(isinstance(state, dict) and state.get("Running"))
            status = self.engine.inspect_task(src.key).get("Status") or {}
            return isinstance(status, dict) and status.get("State") == "running"
        except EngineUnavailable:
            return None
        except EngineError:
            return False  # removed

    def _pump(self, st: _SourceState, *, follow: bool, first: bool) -> bool:
        """Read one logs response to its end. True when the engine ended it (the
        last chunk came, or a plain body's end), False when the connection broke."""
        stream = self._open(st, follow, first)
        with self._lock:
            if self._closed:
                stream.close()
                return True
            st.stream = stream
        if st.failing:  # connected again after a failure
            st.failing = False
            st.error = ""
            self._note(st, f"{st.source.tag}: reading again")
        decoder = LogDecoder(chunked=stream.chunked, tty=st.source.tty)
        skip_ts, skip_n = (st.last_ts, st.same_ts_seen) if not first else ("", 0)
        base = st.index << 2
        try:
            while True:
                data = stream.read(1 << 18)
                lines, streams = decoder.feed(data) if data else decoder.flush()
                if skip_n and lines:  # lines at last_ts were read before
                    k = 0
                    while k < len(lines) and k < skip_n and lines[k][:TS_LEN] <= skip_ts:
                        k += 1
                    skip_n = 0 if k < len(lines) else skip_n - k
                    lines, streams = lines[k:], streams[k:]
                if lines:
                    self._deliver(st, lines, array("H", [base | s for s in streams]))
                if not data or decoder.eof:
                    if data:
                        lines, streams = decoder.flush()
                        if lines:
                            self._deliver(st, lines, array("H", [base | s for s in streams]))
                    return decoder.eof or not stream.chunked
        finally:
            with self._lock:
                st.stream = None
            stream.close()

    def _deliver(self, st: _SourceState, lines: list[str], tags: array) -> None:
        last = lines[-1][:TS_LEN]
        with self._lock:
            if last != _ZERO_TS:  # (an engine message before any line has no position)
                same = 0
                for line in reversed(lines):
                    if line[:TS_LEN] != last:
                        break
                    same += 1
                if last == st.last_ts and same == len(lines):
                    st.same_ts_seen += same
                else:
                    st.last_ts = last
                    st.same_ts_seen = same
            if not st.history_done:
                st.history.extend(lines, tags)
            else:
                st.pending.append((self._clock(), lines, tags))
                self._wake.notify_all()

    def _note(self, st: _SourceState, text: str, error: bool = False) -> None:
        ts = st.last_ts or unix_to_ts(time.time())
        if error:
            st.error = text
        line = f"{ts} {safe_text(text)}"
        with self._lock:
            tags = array("H", [(st.index << 2) | NOTE])
            if st.history_done:
                st.pending.append((self._clock() - self.hold, [line], tags))
            else:
                st.history.extend([line], tags)
            self._wake.notify_all()

    # -- merging -----------------------------------------------------------------
    def _merge_loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                if not self._history_merged:
                    if all(st.history_done for st in self._states):
                        self._merge_history()
                    else:
                        self._wake.wait(0.05)
                        continue
                self._release()
                if not self.follow and self._all_read():
                    self._release(everything=True)
                    self._closed_input = True
                    self._wake.notify_all()
                    return
                self._wake.wait(0.05)

    def _all_read(self) -> bool:
        return all(
            st.history_done and not st.pending and not (st.thread and st.thread.is_alive())
            for st in self._states
        )

    def _merge_history(self) -> None:
        runs = [(st.history.lines, st.history.tags) for st in self._states if st.history]
        dropped = sum(st.history.dropped for st in self._states)
        lines, tags = _merge_runs(runs)
        for st in self._states:  # (a fresh buffer: a single run is merged as the same list)
            st.history = LogBuffer(self.max_lines)
        excess = len(lines) - self.max_lines
        if excess > 0:
            lines, tags = lines[excess:], tags[excess:]
            dropped += excess
        self._emit(lines, tags, dropped)
        self._history_merged = True

    def _release(self, everything: bool = False) -> None:
        now = self._clock()
        live = [st for st in self._states if st.following and not st.ended]
        watermark = min((st.last_ts for st in live), default="") if live else ""
        runs = []
        for st in self._states:
            if not st.pending:
                continue
            keep: list[tuple[float, list[str], array]] = []
            out_lines: list[str] = []
            out_tags = array("H")
            for i, (arrived, lines, tags) in enumerate(st.pending):
                if everything or arrived <= now - self.hold:
                    out_lines.extend(lines)
                    out_tags.extend(tags)
                    continue
                cut = bisect.bisect_right(lines, watermark + "\uffff") if watermark else 0
                if cut:
                    out_lines.extend(lines[:cut])
                    out_tags.extend(tags[:cut])
                if cut < len(lines):
                    keep.append((arrived, lines[cut:], tags[cut:]))
                keep.extend(st.pending[i + 1 :])
                break
            st.pending = keep
            if out_lines:
                runs.append((out_lines, out_tags))
        if runs:
            lines, tags = _merge_runs(runs)
            self._emit(lines, tags, 0)

    def _emit(self, lines: list[str], tags: array, dropped: int) -> None:
        self._out_lines.extend(lines)
        self._out_tags.extend(tags)
        self._out_dropped += dropped
        excess = len(self._out_lines) - self.max_lines
        if excess > 0:  # nobody took them in time: keep the newest
            del self._out_lines[:excess]
            del self._out_tags[:excess]
            self._out_dropped += excess
        if lines or dropped:
            self.version += 1
            self._wake.notify_all()

    # -- consumers -----------------------------------------------------------------
    def take(self) -> LogChunk:
        """Everything merged since the last call (possibly nothing)."""
        with self._lock:
            chunk = LogChunk(self._out_lines, self._out_tags, self._out_dropped)
            self._out_lines, self._out_tags, self._out_dropped = [], array("H"), 0
        return chunk

    def wait(self, timeout: float) -> bool:
        """Until something can be taken, or the session read everything (then False)."""
        with self._lock:
            if self._out_lines or self._out_dropped:
                return True
            if self.finished:
                return False
            self._wake.wait(timeout)
            return bool(self._out_lines or self._out_dropped)

    @property
    def finished(self) -> bool:
        """Not following, and every line has been merged."""
        return self._closed_input or self._closed


def _merge_runs(runs: list[tuple[list[str], array]]) -> tuple[list[str], array]:
    """Merge per-source runs (each in time order) by timestamp; stable per source."""
    if not runs:
        return [], array("H")
    if len(runs) == 1:
        return runs[0][0], runs[0][1]
    pairs: list[tuple[str, int]] = []
    for lines, tags in runs:
        pairs.extend(zip(lines, tags, strict=True))
    pairs.sort(key=_ts_key)  # Timsort merges the sorted runs in C
    return [p[0] for p in pairs], array("H", [p[1] for p in pairs])


def _ts_key(pair: tuple[str, int]) -> str:
    return pair[0][:TS_LEN]


# Replica colours: distinct on dark and light backgrounds, stable by source index.
PALETTE = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "blue",
    "bright_red",
    "bright_cyan",
    "bright_magenta",
    "bright_green",
    "bright_yellow",
    "bright_blue",
    "red",
)
_ANSI = {
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "bright_red": "91",
    "bright_green": "92",
    "bright_yellow": "93",
    "bright_blue": "94",
    "bright_magenta": "95",
    "bright_cyan": "96",
}


def colour_of(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


class LineFormatter:
    """Lines of a session as text (``tag | [ts ]text``) or JSON Lines, for ``mltui logs``."""

    def __init__(
        self,
        session: LogSession,
        *,
        timestamps: bool = False,
        colour: bool = False,
        as_json: bool = False,
        grep: re.Pattern[str] | None = None,
    ) -> None:
        self.session = session
        self.timestamps = timestamps
        self.colour = colour
        self.as_json = as_json
        self.grep = grep

    def format(self, lines: Sequence[str], tags: Sequence[int]) -> list[str]:
        import json

        session = self.session
        names = session.tags()
        width = max((len(n) for n in names), default=0)
        out: list[str] = []
        grep = self.grep
        for line, tag in zip(lines, tags, strict=True):
            text = line[TS_LEN + 1 :]
            if grep is not None and not grep.search(strip_sgr(text)):
                continue
            index, stream = tag >> 2, tag & 3
            name = names[index] if index < len(names) else "?"
            if self.as_json:
                out.append(
                    json.dumps(
                        {
                            "time": line[:TS_LEN],
                            "replica": name,
                            "stream": ("stdout", "stdout", "stderr", "note")[stream],
                            "line": strip_sgr(text),
                        },
                        ensure_ascii=False,
                    )
                )
                continue
            stamp = line[:TS_LEN] + " " if self.timestamps else ""
            if self.colour:
                code = _ANSI[colour_of(index)]
                if stream == NOTE:
                    text = f"\x1b[2m{text}\x1b[0m"
                elif "\x1b" in text:
                    text += "\x1b[0m"
                out.append(f"\x1b[{code}m{name:<{width}} |\x1b[0m {stamp}{text}")
            else:
                out.append(f"{name:<{width}} | {stamp}{strip_sgr(text)}")
        return out


def read_recent(
    engine: Engine, container_id: str, tail: int = 2000, tty: bool = False
) -> list[str]:
    """The last ``tail`` lines of a container, sanitised, without timestamps and
    colour (for parsers: the Jupyter URL finder)."""
    stream = engine.open_logs(
        f"/containers/{container_id}/logs",
        {"stdout": 1, "stderr": 1, "timestamps": 1, "tail": str(max(0, tail))},
        follow=False,
    )
    decoder = LogDecoder(chunked=stream.chunked, tty=tty)
    lines: list[str] = []
    try:
        while not decoder.eof:
            data = stream.read()
            if not data:
                break
            lines += decoder.feed(data)[0]
        lines += decoder.flush()[0]
    except LogStreamError:
        pass  # what was read so far is still worth parsing
    finally:
        stream.close()
    return [strip_sgr(line[TS_LEN + 1 :]) for line in lines]
