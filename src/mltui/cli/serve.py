"""`mltui --serve`: the same dashboard in a web browser, one app per tab (textual-serve)."""

from __future__ import annotations

import argparse
import sys


def add_options(parser: argparse.ArgumentParser) -> None:
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


def run(args: argparse.Namespace) -> int:
    """Each tab runs ``python -m mltui`` with the command line it was given
    (``args.argv``), less the serve options."""
    import shlex

    if args.command is not None:
        print("mltui: --serve serves the dashboard; leave out the command", file=sys.stderr)
        return 2
    try:
        from textual_serve.server import Server
    except ImportError:
        print("mltui: --serve needs textual-serve: pip install textual-serve", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        print(f"mltui: --port {args.port}: give a port from 1 to 65535", file=sys.stderr)
        return 2
    forwarded = _without_serve_options(list(args.argv))
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
