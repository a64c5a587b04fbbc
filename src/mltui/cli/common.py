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
    from ..core.config import Config, PredictConfig, Problem
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


def writable_config(args: argparse.Namespace, who: str) -> Config:
    """The configuration of a command that changes a stack; the command is refused
    (exit 2) when mltui is read-only: ``--read-only`` or ``read_only = true``."""
    config, _ = load_config(args, quiet=True)
    if args.read_only or config.read_only:
        why = "--read-only" if args.read_only else "read_only = true in the config"
        raise CommandError(who, f"refused: mltui is read-only ({why})")
    return config


# ---- what the model-server commands (predict, load, model) share -----------------

DEFAULT_URL = "http://127.0.0.1:8501"


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--url``, ``--model`` and ``--protocol``: the model server and the model to
    talk to (:func:`server_url` fills in a left-out ``--url``)."""
    parser.add_argument(
        "--url",
        help="server (default: the config's endpoint for the model, else http://127.0.0.1:8501)",
    )
    parser.add_argument("--model", default="my_model", help="model name (default %(default)s)")
    parser.add_argument(
        "--protocol",
        choices=("auto", "tfserving", "kserve-v1", "v2"),
        default="auto",
        help="TF Serving REST, KServe V1 or Open Inference V2 (default: ask the server)",
    )


def add_shape_option(parser: argparse.ArgumentParser) -> None:
    """``--shape H,W,C``, read by :func:`shape_option`."""
    parser.add_argument(
        "--shape",
        metavar="H,W,C",
        help="input shape; overrides the server's metadata (default: the metadata, else 224,224,3)",
    )


def server_url(args: argparse.Namespace, config: PredictConfig) -> str:
    """``--url``, else the config's endpoint for ``--model``, else :data:`DEFAULT_URL`."""
    if args.url is not None:
        return str(args.url)
    endpoint = config.endpoint_for(model=args.model)
    return endpoint.url if endpoint else DEFAULT_URL


def shape_option(text: str | None) -> tuple[int, int, int] | None:
    """``--shape``: (H, W, C), None when left out; ValueError with the sentence to show."""
    if not text:
        return None
    try:
        h, w, c = (int(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"--shape {text!r}: give H,W,C such as 224,224,3") from None
    if h < 1 or w < 1 or c not in (1, 3):
        raise ValueError("--shape: H and W at least 1, C 1 or 3")
    return h, w, c


def fail(who: str, message: str) -> int:
    """``who: message`` on stderr (made safe for the terminal), and exit status 2."""
    from ..core.textsafe import safe_text

    print(f"{who}: {safe_text(message, 600)}", file=sys.stderr)
    return 2
