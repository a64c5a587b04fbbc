"""A log session: the replicas of one view, read by one reader each, merged by time.

A :class:`LogSession` follows a set of :class:`~.sources.LogSource` (containers, or
swarm tasks whose container is on another node): one
:class:`~.reader.SourceReader` thread per source, one merge thread. The merge
orders lines by their engine timestamps: the histories all together once they
are in, live lines as soon as every following source has got past them, or
after ``hold`` seconds.

Consumers (the TUI at a frame rate, ``mltui logs``) call :meth:`LogSession.take`
for what was merged since their last call: a :class:`~.lines.LogChunk` of stored
lines and their origins (see :mod:`.lines`). Memory is bounded: a session holds
at most ``max_lines`` not yet taken and counts what it drops.
"""

from __future__ import annotations

import bisect
import threading
import time
from array import array
from collections.abc import Callable, Sequence

from ..engine import Engine
from .lines import DEFAULT_MAX_LINES, LogBuffer, LogChunk, origin_replica
from .logtime import merge_runs
from .reader import SourceReader
from .sources import LogSource


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
        self._states: list[SourceReader] = []  # by replica index
        self._by_key: dict[str, SourceReader] = {}
        self._out_lines: list[str] = []
        self._out_origins = array("H")
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

    def name_of(self, origin: int) -> str:
        """The name of the replica a line's origin names ("?" for none)."""
        index = origin_replica(origin)
        return self._states[index].source.tag if index < len(self._states) else "?"

    def names(self) -> list[str]:
        """The replicas' names, by index (what each line's origin points into)."""
        return [st.source.tag for st in self._states]

    def state_of(self, index: int) -> str:
        """An error, "ended", "following" or "reading"."""
        return self._states[index].state

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

    def _add(self, src: LogSource) -> SourceReader:
        st = SourceReader(self, src, len(self._states), LogBuffer(self.max_lines))
        self._states.append(st)
        self._by_key[src.key] = st
        return st

    def start(self) -> LogSession:
        for st in self._states:
            st.start(history=True)
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
                alive = st.alive
            if not self.follow or self._closed:
                continue
            if fresh:
                st.start(history=True)
            elif src.running and not alive:
                st.ended = False
                st.error = ""
                st.start(history=False)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._closed = True
            streams = [st.stream for st in self._states if st.stream is not None]
            self._wake.notify_all()
        for stream in streams:
            stream.close()

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
        return all(st.history_done and not st.pending and not st.alive for st in self._states)

    def _merge_history(self) -> None:
        runs = [(st.history.lines, st.history.origins) for st in self._states if st.history]
        dropped = sum(st.history.dropped for st in self._states)
        lines, origins = merge_runs(runs)
        for st in self._states:  # (a fresh buffer: a single run is merged as the same list)
            st.history = LogBuffer(self.max_lines)
        excess = len(lines) - self.max_lines
        if excess > 0:
            lines, origins = lines[excess:], origins[excess:]
            dropped += excess
        self._emit(lines, origins, dropped)
        self._history_merged = True

    def _release(self, everything: bool = False) -> None:
        now = self._clock()
        live = [st for st in self._states if st.following and not st.ended]
        watermark = min((st.last_ts for st in live), default="") if live else ""
        runs = []
        for st in self._states:
            if not st.pending:
                continue
            keep: list[tuple[float, list[str], array[int]]] = []
            out_lines: list[str] = []
            out_origins = array("H")
            for i, (arrived, lines, origins) in enumerate(st.pending):
                if everything or arrived <= now - self.hold:
                    out_lines.extend(lines)
                    out_origins.extend(origins)
                    continue
                cut = bisect.bisect_right(lines, watermark + "\uffff") if watermark else 0
                if cut:
                    out_lines.extend(lines[:cut])
                    out_origins.extend(origins[:cut])
                if cut < len(lines):
                    keep.append((arrived, lines[cut:], origins[cut:]))
                keep.extend(st.pending[i + 1 :])
                break
            st.pending = keep
            if out_lines:
                runs.append((out_lines, out_origins))
        if runs:
            lines, origins = merge_runs(runs)
            self._emit(lines, origins, 0)

    def _emit(self, lines: list[str], origins: array[int], dropped: int) -> None:
        self._out_lines.extend(lines)
        self._out_origins.extend(origins)
        self._out_dropped += dropped
        excess = len(self._out_lines) - self.max_lines
        if excess > 0:  # nobody took them in time: keep the newest
            del self._out_lines[:excess]
            del self._out_origins[:excess]
            self._out_dropped += excess
        if lines or dropped:
            self.version += 1
            self._wake.notify_all()

    # -- consumers -----------------------------------------------------------------
    def take(self) -> LogChunk:
        """Everything merged since the last call (possibly nothing)."""
        with self._lock:
            chunk = LogChunk(self._out_lines, self._out_origins, self._out_dropped)
            self._out_lines, self._out_origins, self._out_dropped = [], array("H"), 0
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
