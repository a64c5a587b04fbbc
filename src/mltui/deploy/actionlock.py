"""One action at a time on a target: a lock file per engine and target in the
state folder (``locks/`` beside the action log), held with ``flock`` for as long
as the action runs.

The kernel releases a ``flock`` when its holder exits, however it exits, so a
lock file left by a process that died is no lock at all: the next action takes
it. The file holds the holder's pid and what it does, for the refusal message.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.state import state_path
from ..core.textsafe import safe_text


class Busy(Exception):
    """Another action holds the target: one sentence."""


def lock_path(engine: str, target: str, env: dict[str, str] | None = None) -> Path:
    digest = hashlib.sha256(f"{engine}\0{target}".encode()).hexdigest()[:24]
    return state_path(env).parent / "locks" / f"{digest}.lock"


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 400, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    pid, _, what = text.partition(" ")
    return f" (pid {safe_text(pid, 20)}: {safe_text(what, 200)})" if pid.isdigit() else ""


@contextmanager
def target_lock(engine: str, target: str, what: str) -> Iterator[None]:
    """The lock of ``target``: a service ("stack/service") is held alone, and its
    stack shared, so an action on a whole stack (up, down) and one on a service
    of it exclude each other, while two services of one stack do not."""
    stack, slash, _service = target.partition("/")
    if not slash:
        with action_lock(engine, target, what):
            yield
        return
    with action_lock(engine, stack, what, shared=True), action_lock(engine, target, what):
        yield


@contextmanager
def action_lock(
    engine: str, target: str, what: str, path: Path | None = None, shared: bool = False
) -> Iterator[None]:
    """Hold the lock of ``target`` on ``engine`` for the block (``shared``: with
    other shared holders); :class:`Busy` at once when another live process
    holds it. A lock folder that cannot be written does not stop the action
    (nothing to guard with, nothing to refuse)."""
    path = lock_path(engine, target) if path is None else path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(
                f"another action on {target} is running{_holder(fd)}: "
                "wait for it to finish, then try again"
            ) from None
        if not shared:  # who holds it, for the message another action gets
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {' '.join(what.split())}\n".encode(), 0)
        try:
            yield
        finally:
            if not shared:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
