"""One reader per replica: read its history, then follow it, across reconnects.

A :class:`SourceReader` runs one thread for one :class:`LogSource`. It first
reads the history (the session's ``tail``/``since``) and then follows from the
last timestamp it saw, so a reconnect or a restarted container loses no line and
repeats none. What it reads goes to its session: into ``history`` until the
history is complete, then into ``pending`` for the live merge (both under the
session's lock).
"""

from __future__ import annotations

import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine import Backoff, Engine, EngineError, EngineUnavailable
from ..logstream import TS_LEN, LogDecoder, LogStreamError, strip_sgr
from ..textsafe import safe_text
from .lines import LogBuffer, Stream, pack_origin
from .logtime import ZERO_TS, ts_to_unix, unix_to_ts
from .sources import LogSource

if TYPE_CHECKING:
    from .session import LogSession


@dataclass(eq=False)
class SourceReader:
    """The reading state of one replica of a session, and its thread."""

    session: LogSession
    source: LogSource
    index: int
    history: LogBuffer  # what was read before following, kept within max_lines
    history_done: bool = False
    pending: list[tuple[float, list[str], array[int]]] = field(default_factory=list)
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

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def state(self) -> str:
        """What the screen says of this replica: an error, ended, following, reading."""
        if self.error:
            return self.error
        if self.ended:
            return "ended"
        return "following" if self.following else "reading"

    def start(self, history: bool) -> None:
        self.thread = threading.Thread(
            target=self._run, args=(history,), name=f"mltui-logs-{self.source.tag}", daemon=True
        )
        self.thread.start()

    # -- the thread ------------------------------------------------------------------
    def _run(self, history: bool) -> None:
        try:
            self._loop(history)
        except Exception as exc:  # a bug must not end the view silently: say so
            self.following = False
            with self.session._lock:
                self.history_done = True
            self._note(f"{self.source.tag}: stopped reading ({type(exc).__name__}: {exc})", True)

    def _loop(self, history: bool) -> None:
        session = self.session
        backoff = Backoff()
        if history:
            try:
                tty = _tty(session.engine, self.source)
                src = self.source
                self.source = LogSource(src.key, src.tag, src.kind, src.running, tty)
                self._pump(follow=False, first=True)
            except (EngineError, LogStreamError) as exc:
                self._note(f"{self.source.tag}: {exc}", error=True)
            finally:
                with session._lock:
                    self.history_done = True
                    session._wake.notify_all()
        if not session.follow:
            return
        self.failing = False
        while not session._closed:
            self.following = True
            problem = ""
            try:
                # from the last line read (none yet: the tail/since of the view)
                if self._pump(follow=True, first=not self.last_ts):
                    running = _still_running(session.engine, self.source)
                else:
                    running, problem = None, "the log stream broke off"
            except EngineUnavailable as exc:
                running, problem = None, exc.message
            except (EngineError, LogStreamError) as exc:
                self.following = False
                self._note(f"{self.source.tag}: {exc}", error=True)
                return
            self.following = False
            if session._closed:
                return
            if running is None:  # the engine went away: nothing is lost, read on later
                if not self.failing:
                    self.failing = True
                    what = problem or "engine gone"
                    self._note(f"{self.source.tag}: {what}; trying again", error=True)
                session._stop.wait(backoff.next())
                continue
            backoff.reset()
            if running:  # the stream ended, the container runs: follow again
                session._stop.wait(0.5)
                continue
            self.ended = True
            if self.ended_at != self.last_ts or not self.last_ts:
                # (a stale snapshot can restart a reader that had just ended: it
                # reads nothing new, and one mark of the end is enough)
                self.ended_at = self.last_ts
                self._note(f"── {self.source.tag} ended ──")
            return

    def _open(self, follow: bool, first: bool) -> Any:
        session = self.session
        params: dict[str, Any] = {"stdout": 1, "stderr": 1, "timestamps": 1}
        if first:
            tail = None if self.joined else session.tail  # a replacement: from its first line
            params["tail"] = "all" if tail is None else str(max(0, tail))
            if session.since is not None:
                params["since"] = f"{session.since:.9f}"
        else:
            params["tail"] = "all"
            since = ts_to_unix(self.last_ts) if self.last_ts else None
            if since is not None:
                params["since"] = since
            elif session.since is not None:
                params["since"] = f"{session.since:.9f}"
        if follow:
            params["follow"] = 1
        return session.engine.open_logs(self.source.path, params, follow=follow)

    def _pump(self, *, follow: bool, first: bool) -> bool:
        """Read one logs response to its end. True when the engine ended it (the
        last chunk came, or a plain body's end), False when the connection broke."""
        session = self.session
        stream = self._open(follow, first)
        with session._lock:
            if session._closed:
                stream.close()
                return True
            self.stream = stream
        if self.failing:  # connected again after a failure
            self.failing = False
            self.error = ""
            self._note(f"{self.source.tag}: reading again")
        decoder = LogDecoder(chunked=stream.chunked, tty=self.source.tty)
        skip_ts, skip_n = (self.last_ts, self.same_ts_seen) if not first else ("", 0)
        base = pack_origin(self.index, 0)
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
                    self._deliver(lines, array("H", [base | s for s in streams]))
                if not data or decoder.eof:
                    if data:
                        lines, streams = decoder.flush()
                        if lines:
                            self._deliver(lines, array("H", [base | s for s in streams]))
                    return decoder.eof or not stream.chunked
        finally:
            with session._lock:
                self.stream = None
            stream.close()

    def _deliver(self, lines: list[str], origins: array[int]) -> None:
        session = self.session
        last = lines[-1][:TS_LEN]
        with session._lock:
            if last != ZERO_TS:  # (an engine message before any line has no position)
                same = 0
                for line in reversed(lines):
                    if line[:TS_LEN] != last:
                        break
                    same += 1
                if last == self.last_ts and same == len(lines):
                    self.same_ts_seen += same
                else:
                    self.last_ts = last
                    self.same_ts_seen = same
            if not self.history_done:
                self.history.extend(lines, origins)
            else:
                self.pending.append((session._clock(), lines, origins))
                session._wake.notify_all()

    def _note(self, text: str, error: bool = False) -> None:
        """A line of mltui's own (a replica ended, an error) among this replica's."""
        session = self.session
        ts = self.last_ts or unix_to_ts(time.time())
        if error:
            self.error = text
        line = f"{ts} {safe_text(text)}"
        with session._lock:
            origins = array("H", [pack_origin(self.index, Stream.NOTE)])
            if self.history_done:
                self.pending.append((session._clock() - session.hold, [line], origins))
            else:
                self.history.extend([line], origins)
            session._wake.notify_all()


def _tty(engine: Engine, src: LogSource) -> bool:
    if src.kind != "container":
        return False
    try:
        config = engine.inspect_container(src.key).get("Config") or {}
    except EngineError:
        return False
    return bool(isinstance(config, dict) and config.get("Tty"))


def _still_running(engine: Engine, src: LogSource) -> bool | None:
    """Whether the replica runs; None when the engine cannot say (gone)."""
    try:
        if src.kind == "container":
            state = engine.inspect_container(src.key).get("State") or {}
            return bool(isinstance(state, dict) and state.get("Running"))
        status = engine.inspect_task(src.key).get("Status") or {}
        return isinstance(status, dict) and status.get("State") == "running"
    except EngineUnavailable:
        return None
    except EngineError:
        return False  # removed


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
