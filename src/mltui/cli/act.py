"""What `mltui up`, `scale`, `restart`, `rollback`, `stop`, `start` and `down` share: refuse in read-only mode, plan
against one snapshot, ask (or refuse without a terminal), run, wait, log.

Exit status: 0 the change took effect, 1 it did not (the reason on stderr), 2 it
could not start (refused, declined, a bad target, an engine that does not answer).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from .common import CommandError, engine_snapshot, writable_config

if TYPE_CHECKING:
    from ..core.engine import EngineTarget
    from ..core.inventory import Snapshot
    from ..deploy.actions import Plan


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", "-y", action="store_true", help="do it without asking")
    p.add_argument(
        "--read-only",
        action="store_true",
        help="refuse every action (as read_only = true in the config does)",
    )


def confirm(question: str, yes: bool, stdin: TextIO, stderr: TextIO) -> str:
    """ "" when the action may go ahead, else why not (nothing is changed)."""
    if yes:
        return ""
    if not stdin.isatty():
        return "no terminal to ask on and no --yes: nothing changed"
    print(f"{question} [y/N] ", end="", file=stderr, flush=True)
    answer = stdin.readline().strip().lower()
    return "" if answer in ("y", "yes") else "not confirmed: nothing changed"


def _say(who: str, text: str) -> None:
    """Progress and results on stderr, each line printable (the docker CLI's
    output and the build's are the containers' and the files' words)."""
    from ..core.textsafe import safe_text

    lines = text.splitlines() or [""]
    print(f"{who}: {safe_text(lines[0])}", file=sys.stderr, flush=True)
    for line in lines[1:]:
        print(f"  {safe_text(line)}", file=sys.stderr, flush=True)


def act(
    args: argparse.Namespace,
    who: str,
    make_plan: Callable[[Snapshot, EngineTarget], Plan],
    stdin: TextIO | None = None,
) -> int:
    from ..deploy.actionlog import append
    from ..deploy.actions import WAIT_S, ActionError, execute

    writable_config(args, who)
    engine, inventory, snapshot = engine_snapshot(args.host, who)
    try:
        try:
            plan = make_plan(snapshot, engine.target)
        except ActionError as exc:
            raise CommandError(who, str(exc)) from None
        for question in (plan.question, plan.second_question):
            if not question:
                continue
            refusal = confirm(question, args.yes, stdin or sys.stdin, sys.stderr)
            if refusal:
                raise CommandError(who, f"{question}\n{who}: {refusal}")
        result = execute(
            plan,
            inventory,
            lambda text: _say(who, text),
            timeout=getattr(args, "timeout", None) or WAIT_S,
            detach=getattr(args, "detach", False),
        )
        if not result.started:
            raise CommandError(who, result.message)
        problem = append(
            plan.engine, plan.target, plan.commands, "ok" if result.ok else result.message
        )
        if problem:
            _say(who, problem)
        _say(who, result.message)
        return 0 if result.ok else 1
    finally:
        engine.close()
