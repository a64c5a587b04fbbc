"""One interface over both ways of reading usage: :class:`StatsReader`.

On the local engine it reads the cgroup files (no engine call); a container
whose files are not here (remote engine, rootless, gone) is asked of the
engine's one-shot stats, a few at a time in a small thread pool, each with a
timeout: a call that hangs makes that row "n/a", never a wait. CPU % needs
two samples: the reader keeps the previous one per container.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from .api import sample_from_api
from .cgroup import CgroupFiles
from .model import ContainerStats, RawSample, StatsTarget, figures

if TYPE_CHECKING:
    from ..engine import Engine

KEEP_PREVIOUS_S = 120.0  # a previous sample older than this is dropped (row off screen)


class StatsReader:
    """Reads :class:`ContainerStats` for the containers asked, remembering the
    previous sample of each for CPU %. Thread-safe; :meth:`close` ends the pool."""

    def __init__(
        self,
        engine: Engine | None,
        *,
        cgroups: CgroupFiles | None = None,
        use_cgroups: bool | None = None,
        use_api: bool = True,
        workers: int = 4,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        if use_cgroups is None:
            base = engine.target.base_url if engine is not None else "unix://"
            use_cgroups = base.startswith(("unix://", "http+unix://"))
        self.cgroups = (cgroups or CgroupFiles()) if use_cgroups else None
        self.use_api = use_api and engine is not None
        self.timeout = timeout
        self.clock = clock
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._previous: dict[str, tuple[float, RawSample]] = {}
        self._lock = threading.Lock()

    def read(self, targets: Sequence[StatsTarget]) -> dict[str, ContainerStats]:
        """Figures for each target, by container id; never raises for one container."""
        out: dict[str, ContainerStats] = {}
        samples: dict[str, RawSample] = {}
        ask: list[StatsTarget] = []
        system = self.cgroups.system_ns() if self.cgroups is not None else None
        for target in targets:
            if not target.running:
                out[target.container_id] = _blank(target, "not running")
                continue
            sample = self.cgroups.sample(target, system) if self.cgroups is not None else None
            if sample is not None:
                samples[target.container_id] = sample
            else:
                ask.append(target)
        if ask and self.use_api:
            for target, result in zip(ask, self._ask_engine(ask), strict=True):
                if isinstance(result, RawSample):
                    samples[target.container_id] = result
                else:
                    out[target.container_id] = _blank(target, result)
        else:
            for target in ask:
                out[target.container_id] = _blank(target, "no cgroup files")
        now = self.clock()
        with self._lock:
            for target in targets:
                sample = samples.get(target.container_id)
                if sample is None:
                    continue
                previous = self._previous.get(target.container_id)
                out[target.container_id] = figures(
                    target, previous[1] if previous else None, sample
                )
                self._previous[target.container_id] = (now, sample)
            for cid, (at, _) in list(self._previous.items()):
                if now - at > KEEP_PREVIOUS_S:
                    del self._previous[cid]
        return out

    def _ask_engine(self, targets: Sequence[StatsTarget]) -> list[RawSample | str]:
        engine = self.engine
        assert engine is not None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="mltui-stats")

        def one(cid: str) -> RawSample | str:
            try:
                sample = sample_from_api(engine.container_stats(cid, timeout=self.timeout))
            except Exception as exc:  # EngineError (gone), EngineUnavailable, a timeout
                return str(getattr(exc, "message", "") or exc) or "unreadable"
            return sample if sample is not None else "no figures"

        futures: list[Future[RawSample | str]] = [
            self._pool.submit(one, t.container_id) for t in targets
        ]
        deadline = self.clock() + self.timeout + 0.5
        pending = set(futures)
        while pending:
            left = deadline - self.clock()
            if left <= 0:
                break
            _, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
        return [f.result() if f.done() else "timed out" for f in futures]

    def forget(self, container_id: str) -> None:
        with self._lock:
            self._previous.pop(container_id, None)
        if self.cgroups is not None:
            self.cgroups.forget(container_id)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _blank(target: StatsTarget, why: str) -> ContainerStats:
    return ContainerStats(
        container_id=target.container_id,
        oom_killed=target.oom_killed,
        exit_code=target.exit_code,
        error=why,
    )


def read_rates(
    reader: StatsReader,
    targets: Sequence[StatsTarget],
    interval: float = 1.0,
    pause: Callable[[float], None] = time.sleep,
) -> dict[str, ContainerStats]:
    """Two reads ``interval`` seconds apart (the CPU sampling window), for a
    one-off command such as ``ps --stats``; the second read's figures."""
    reader.read(targets)
    pause(interval)
    return reader.read(targets)
