"""What the commands share: the engine to talk to, one snapshot of it or one
sentence and exit 2, the configuration, and how a command stops on a problem.

Light on purpose: every import that costs (docker-py, the inventory, Textual) is
made inside a function, when a command needs it, so `mltui` starts quickly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ..core.config import Config, Problem
    from ..core.engine import Engine, EngineInfo
    from ..core.inventory import Inventory, Snapshot


class CommandError(Exception):
    """Stops a command: ``who: message`` on stderr, and ``code`` as the exit
    status (2: there is nothing to show). :func:`mltui.cli.main` prints it."""

    def __init__(self, who: str, message: str, code: int = 2) -> None:
        super().__init__(f"{who}: {message}")
        self.code = code


def connect(host: str | None) -> Engine:
    """The engine ``-H`` names, else DOCKER_HOST, the current docker context, the
    local socket; connected lazily, on the first call."""
    from ..core.engine import Engine, EngineTarget, resolve_target

    if host:
        return Engine(EngineTarget(host, "--host"))
    return Engine(resolve_target())


@contextmanager
def exits_when_down(who: str) -> Iterator[None]:
    """An engine that does not answer within the block stops the command with its
    one sentence and exit 2."""
    from ..core.engine import EngineUnavailable

    try:
        yield
    except EngineUnavailable as exc:
        raise CommandError(who, exc.message) from None


class EngineSnapshot(NamedTuple):
    engine: Engine  # still open: the caller closes it
    inventory: Inventory
    snapshot: Snapshot


def engine_snapshot(
    host: str | None, who: str, on_down: Callable[[EngineInfo], None] | None = None
) -> EngineSnapshot:
    """Connect to the engine and take a snapshot of its stacks. When the engine
    does not answer, the engine is closed, ``on_down`` gets its 'down' state (``ps
    --json`` prints it) and the command stops: ``who: why`` on stderr, exit 2."""
    from ..core.engine import EngineUnavailable
    from ..core.inventory import Inventory

    engine = connect(host)
    inventory = Inventory(engine)
    try:
        with exits_when_down(who):
            try:
                return EngineSnapshot(engine, inventory, inventory.snapshot())
            except EngineUnavailable as exc:
                if on_down is not None:
                    on_down(engine.down_info(exc.message))
                raise
    except BaseException:
        engine.close()
        raise


def load_config(args: argparse.Namespace, quiet: bool = False) -> tuple[Config, list[Problem]]:
    """The configuration (``--config`` or the XDG file); problems go to stderr once."""
    from ..core.config import load

    config, problems = load(args.config)
    if not quiet:
        for problem in problems:
            print(f"mltui: {problem}", file=sys.stderr)
    return config, problems
