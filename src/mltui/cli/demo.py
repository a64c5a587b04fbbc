"""`mltui demo up|down`: the offline demo stack (notebook, 4 model replicas, load
balancer), built, deployed and waited for, then the dashboard on it."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from . import tui
from .common import connect, exits_when_down

if TYPE_CHECKING:
    from ..core.engine import Engine
    from ..deploy.stacks import DemoPlan


def add_parser(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo", help="the offline demo stack: notebook, 4 model replicas, load balancer"
    )
    demo_sub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    for action, text in (
        ("up", "build the images if missing, deploy, wait until ready, open mltui"),
        ("down", "remove the demo stack"),
    ):
        p = demo_sub.add_parser(action, help=text)
        p.add_argument(
            "--name", default="mltui-demo", help="stack/project name (default: mltui-demo)"
        )
        p.add_argument(
            "--compose",
            action="store_true",
            help="use Compose even when the engine is a swarm manager",
        )
        if action == "up":
            p.add_argument(
                "--detach", action="store_true", help="deploy and return, for scripts and tests"
            )
            p.add_argument(
                "--port",
                type=int,
                default=8501,
                help="host port of the model server (default 8501)",
            )
            p.add_argument(
                "--notebook-port",
                type=int,
                default=8888,
                help="host port of the notebook (default 8888)",
            )
            p.add_argument(
                "--timeout", type=float, default=300.0, help="seconds to wait for readiness"
            )


def run(args: argparse.Namespace) -> int:
    from ..deploy.stacks import DemoError, DemoPlan, remove_demo

    engine = connect(args.host)
    try:
        with exits_when_down("mltui"):
            info = engine.info()
        swarm = info.swarm == "active" and info.swarm_manager and not args.compose
        plan = DemoPlan(
            name=args.name,
            mode="swarm" if swarm else "compose",
            port=getattr(args, "port", 8501),
            notebook_port=getattr(args, "notebook_port", 8888),
        )
        if args.demo_command == "down":
            try:
                remove_demo(plan, target=engine.target)
            except DemoError as exc:
                print(f"mltui: {exc}", file=sys.stderr)
                return 1
            _say(f"removed {plan.name} ({plan.mode})")
            return 0
        deployed = _deploy(args, plan, engine)
    finally:
        engine.close()
    if deployed is None:
        return 1
    _say(f"ready in {time.monotonic() - deployed:.0f}s: model server {plan.url}")
    _say(_notebook_line(plan, args.host))
    if args.detach:
        return 0
    return tui.run(args)


def _say(line: str) -> None:
    print(f"demo: {line}", file=sys.stderr, flush=True)


def _deploy(args: argparse.Namespace, plan: DemoPlan, engine: Engine) -> float | None:
    """Build the images where missing, deploy and wait until ready: when the
    deployment began, or None after saying why not (what was deployed is removed)."""
    from ..core.engine import EngineUnavailable
    from ..core.inventory import Inventory
    from ..deploy.dockercli import docker_argv
    from ..deploy.stacks import DemoError, demo_images, deploy_demo, remove_demo, wait_demo

    tty = sys.stderr.isatty()
    started = time.monotonic()
    try:
        images = demo_images(_say, docker_argv(engine.target))
    except DemoError as exc:
        print(f"mltui: {exc}", file=sys.stderr)
        return None
    _say(
        f"images ready in {time.monotonic() - started:.0f}s; deploying {plan.name} with {plan.mode}"
    )
    deployed = time.monotonic()
    last = [""]

    def progress(state: dict[str, tuple[int, int]]) -> None:
        line = "waiting: " + ", ".join(
            f"{name} {have}/{want}" for name, (have, want) in state.items()
        )
        if line != last[0]:
            last[0] = line
            print(
                ("\r" if tty else "") + f"demo: {line}",
                end="" if tty else "\n",
                file=sys.stderr,
                flush=True,
            )

    inventory = Inventory(engine)
    try:
        deploy_demo(plan, images, inventory, engine.target)
        wait_demo(plan, inventory, progress, timeout=args.timeout)
    except (DemoError, EngineUnavailable) as exc:
        if tty:
            print(file=sys.stderr)
        message = exc.message if isinstance(exc, EngineUnavailable) else str(exc)
        print(f"mltui: {message}", file=sys.stderr)
        if isinstance(exc, DemoError) and not exc.deployed:
            return None  # refused before anything reached the engine (a port in use)
        _say("removing what was deployed, so nothing is left half up")
        try:
            remove_demo(plan, images, engine.target)
        except DemoError as again:
            print(f"mltui: {again}", file=sys.stderr)
        return None
    if tty:
        print(file=sys.stderr)
    return deployed


def _notebook_line(plan: DemoPlan, host: str | None, wait: float = 30.0) -> str:
    """The demo notebook's URL, token masked, once its server answers."""
    from ..core.engine import EngineUnavailable
    from ..core.inventory import Inventory
    from ..core.jupyter import find_notebooks

    deadline = time.monotonic() + wait
    while True:
        engine = connect(host)
        try:
            snapshot = Inventory(engine).snapshot()
            found = find_notebooks(engine, snapshot, service=f"{plan.name}/notebook").notebooks
        except (EngineUnavailable, LookupError):
            found = []
        finally:
            engine.close()
        reachable = [n for n in found if n.status == "reachable"]
        if reachable:
            return (
                f"notebook {reachable[0].masked_url} (`mltui jupyter --show-token` shows the token)"
            )
        if time.monotonic() > deadline:
            return (
                f"notebook on 127.0.0.1:{plan.notebook_port} is still starting: "
                "`mltui jupyter` shows its URL"
            )
        time.sleep(1.0)
