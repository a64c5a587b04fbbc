"""Command line: `mltui` opens the TUI; sub-commands print the same facts headlessly."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mltui",
        description="A terminal dashboard for the container stacks of machine learning: "
        "compose projects and swarm stacks, replicas, logs, notebooks, GPUs and model servers.",
    )
    parser.add_argument("--version", action="version", version=f"mltui {__version__}")
    parser.add_argument(
        "-H",
        "--host",
        help="Docker engine address (default: DOCKER_HOST, then the current docker context, then the local socket)",
    )
    parser.add_argument(
        "--log-lines",
        type=_positive,
        metavar="N",
        help="lines a logs view keeps before it drops the oldest (default: the config's "
        "logs.max_lines, else 100,000)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="configuration file (default: $MLTUI_CONFIG, else $XDG_CONFIG_HOME/mltui/config.toml)",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="serve the dashboard to a web browser (textual-serve) instead of this terminal",
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="with --serve: the port (default %(default)s)"
    )
    parser.add_argument(
        "--address",
        default="127.0.0.1",
        help="with --serve: the address to listen on (default %(default)s: this machine only)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cfg = sub.add_parser(
        "config",
        help="where the configuration file is and what is in effect",
        description="Without an option: the same as --show.",
    )
    what = cfg.add_mutually_exclusive_group()
    what.add_argument("--path", action="store_true", help="print the file's path")
    what.add_argument(
        "--show", action="store_true", help="print the configuration in effect, and any problem"
    )
    what.add_argument(
        "--example", action="store_true", help="print a commented example with every key"
    )
    ps = sub.add_parser("ps", help="list stacks, services and replicas")
    ps.add_argument("--json", action="store_true", help="print JSON for scripts")
    ps.add_argument("--services", action="store_true", help="services only, no replica rows")
    from .gpu_cli import add_parser as add_gpu
    from .jupyter_cli import add_parser as add_jupyter
    from .logs_cli import add_parser as add_logs
    from .predict_cli import add_parser as add_predict

    add_logs(sub)
    add_jupyter(sub)
    add_predict(sub)
    add_gpu(sub)
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
    return parser


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a whole number of lines, at least 1")
    return number


def _engine(host: str | None):
    from .core.engine import Engine, EngineTarget, resolve_target

    if host:
        return Engine(EngineTarget(host, "--host"))
    return Engine(resolve_target())


def cmd_ps(args: argparse.Namespace) -> int:
    from .core.engine import EngineUnavailable
    from .core.inventory import Inventory

    engine = _engine(args.host)
    try:
        snapshot = Inventory(engine).snapshot()
    except EngineUnavailable as exc:
        if args.json:
            print(
                json.dumps(
                    {"engine": engine.down_info(exc.message).as_dict(), "stacks": []}, indent=2
                )
            )
        print(f"mltui: {exc.message}", file=sys.stderr)
        return 2
    finally:
        engine.close()
    if args.json:
        print(json.dumps(snapshot.as_dict(), indent=2))
        return 0
    _print_table(snapshot, replicas=not args.services)
    return 0


def _print_table(snapshot, replicas: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .core.report import COLUMNS, engine_line, rows

    out = Console(
        width=None if sys.stdout.isatty() else 200,
        highlight=False,
        soft_wrap=False,
        no_color=not sys.stdout.isatty() or "NO_COLOR" in os.environ,
    )
    out.print(Text(engine_line(snapshot.engine)))
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for col in COLUMNS:
        table.add_column(col, no_wrap=True, overflow="ellipsis")
    for row in rows(snapshot, replicas=replicas):
        name = ("" if row.level == 0 else "  " * row.level) + row.cells[0]
        style = "bold" if row.level == 0 else ""
        table.add_row(Text(name, style=style), *(Text(c) for c in row.cells[1:]))
        if row.note and row.level == 1:
            table.add_row(
                Text("    └ " + row.note, style="red"), *([Text("")] * (len(COLUMNS) - 1))
            )
    out.print(table)


def load_config(args: argparse.Namespace, quiet: bool = False):
    """The configuration (``--config`` or the XDG file); problems go to stderr once."""
    from .core.config import load

    config, problems = load(args.config)
    if not quiet:
        for problem in problems:
            print(f"mltui: {problem}", file=sys.stderr)
    return config, problems


def cmd_config(args: argparse.Namespace) -> int:
    from .core.config import EXAMPLE, config_path

    if args.path:
        print(args.config or config_path())
        return 0
    if args.example:
        print(EXAMPLE, end="")
        return 0
    config, problems = load_config(args, quiet=True)
    exists = Path(config.path).is_file()
    print(f"# {config.path}" + ("" if exists else " (no such file: these are the defaults)"))
    print(config.to_toml(), end="")
    for problem in problems:
        print(f"mltui: {problem}", file=sys.stderr)
    return 1 if problems else 0


def cmd_serve(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """The same TUI, one app per browser tab, through textual-serve."""
    import shlex

    try:
        from textual_serve.server import Server
    except ImportError:
        print("mltui: --serve needs textual-serve: pip install textual-serve", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        print(f"mltui: --port {args.port}: give a port from 1 to 65535", file=sys.stderr)
        return 2
    forwarded = _without_serve_options(list(argv))
    command = shlex.join([sys.executable, "-m", "mltui", *forwarded])
    problem = _cannot_listen(args.address, args.port)
    if problem:
        print(f"mltui: cannot serve on {args.address}:{args.port}: {problem}", file=sys.stderr)
        return 2
    if args.address not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"mltui: serving on {args.address}: whoever reaches this port controls the Docker "
            "engine. Prefer an SSH tunnel to 127.0.0.1.",
            file=sys.stderr,
        )
    print(f"mltui: serving on http://{args.address}:{args.port} (ctrl+c stops)", file=sys.stderr)
    try:
        Server(command, host=args.address, port=args.port, title="mltui").serve()
    except OSError as exc:  # lost a race for the port, or the address went away
        print(
            f"mltui: cannot serve on {args.address}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    return 0


def _cannot_listen(address: str, port: int) -> str:
    """Why ``address:port`` cannot be listened on, or "" when it can."""
    import socket

    try:
        infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"no such address ({exc.strerror or exc})"
    family, kind, proto, _name, where = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(where)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == 98:  # EADDRINUSE
                reason += " (another mltui --serve? pick another --port)"
            return reason
    return ""


def _without_serve_options(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--serve":
            continue
        if arg in ("--port", "--address"):
            skip = True
            continue
        if arg.startswith(("--port=", "--address=")):
            continue
        out.append(arg)
    return out


def cmd_tui(args: argparse.Namespace) -> int:
    from .core.inventory import WarmStart

    # the first round trips to the engine run while Textual is imported
    warm = WarmStart(_engine(args.host)).start()
    from .ui.app import MltuiApp

    config, problems = load_config(args, quiet=True)
    app = MltuiApp(
        engine_factory=lambda: _engine(args.host),
        log_lines=args.log_lines or config.logs.max_lines,
        config=config,
        config_problems=problems,
        warm=warm,
    )
    app.run()
    return app.return_code or 0


def _demo_notebook(plan, host: str | None, wait: float = 30.0) -> str:
    """The demo notebook's URL, token masked, once its server answers."""
    from .core.engine import EngineUnavailable
    from .core.inventory import Inventory
    from .core.jupyter import find_notebooks

    deadline = time.monotonic() + wait
    while True:
        engine = _engine(host)
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


def cmd_demo(args: argparse.Namespace) -> int:
    from .core.engine import EngineUnavailable
    from .core.inventory import Inventory
    from .core.stacks import DemoError, DemoPlan, demo_images, deploy_demo, remove_demo, wait_demo

    engine = _engine(args.host)
    try:
        info = engine.info()
    except EngineUnavailable as exc:
        print(f"mltui: {exc.message}", file=sys.stderr)
        return 2
    swarm = info.swarm == "active" and info.swarm_manager and not args.compose
    plan = DemoPlan(
        name=args.name,
        mode="swarm" if swarm else "compose",
        port=getattr(args, "port", 8501),
        notebook_port=getattr(args, "notebook_port", 8888),
    )
    tty = sys.stderr.isatty()

    def say(line: str) -> None:
        print(f"demo: {line}", file=sys.stderr, flush=True)

    if args.demo_command == "down":
        try:
            remove_demo(plan)
        except DemoError as exc:
            print(f"mltui: {exc}", file=sys.stderr)
            return 1
        say(f"removed {plan.name} ({plan.mode})")
        return 0

    started = time.monotonic()
    try:
        images = demo_images(say)
    except DemoError as exc:
        print(f"mltui: {exc}", file=sys.stderr)
        return 1
    say(
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

    try:
        deploy_demo(plan, images)
        wait_demo(plan, Inventory(engine), progress, timeout=args.timeout)
    except (DemoError, EngineUnavailable) as exc:
        if tty:
            print(file=sys.stderr)
        message = exc.message if isinstance(exc, EngineUnavailable) else str(exc)
        print(f"mltui: {message}", file=sys.stderr)
        say("removing what was deployed, so nothing is left half up")
        try:
            remove_demo(plan, images)
        except DemoError as again:
            print(f"mltui: {again}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    if tty:
        print(file=sys.stderr)
    say(f"ready in {time.monotonic() - deployed:.0f}s: model server {plan.url}")
    say(_demo_notebook(plan, args.host))
    if args.detach:
        return 0
    return cmd_tui(args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    if args.command == "config":
        return cmd_config(args)
    if args.serve:
        if args.command is not None:
            print("mltui: --serve serves the dashboard; leave out the command", file=sys.stderr)
            return 2
        return cmd_serve(args, argv)
    if args.command == "ps":
        return cmd_ps(args)
    if args.command == "demo":
        return cmd_demo(args)
    if args.command == "jupyter":
        from .jupyter_cli import cmd_jupyter

        return cmd_jupyter(args, lambda: _engine(args.host))
    if args.command == "gpu":
        from .gpu_cli import cmd_gpu

        return cmd_gpu(args, lambda: _engine(args.host))
    if args.command == "predict":
        from .predict_cli import cmd_predict

        config, _problems = load_config(args)
        return cmd_predict(args, config.predict)
    if args.command == "logs":
        from .logs_cli import cmd_logs

        return cmd_logs(args, lambda: _engine(args.host))
    return cmd_tui(args)


if __name__ == "__main__":
    sys.exit(main())
