"""`mltui logs SERVICE`: the merged, tagged, time-ordered logs of a service."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

from .common import engine_snapshot


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "logs",
        help="logs of a service (all replicas merged in time order) or of one replica",
        description="Print the logs of SERVICE (name, stack/name, or a container name or id): "
        "every replica merged by the engine's timestamps, each line tagged with its replica.",
    )
    p.add_argument("service", metavar="SERVICE")
    p.add_argument(
        "--replica", type=int, metavar="N", help="only replica N (swarm slot, compose number)"
    )
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    p.add_argument(
        "--since", metavar="WHEN", help="from a time (RFC 3339) or a duration back (10m, 2h)"
    )
    p.add_argument(
        "-n",
        "--tail",
        default="all",
        metavar="N",
        help="the last N lines of each replica (default: all)",
    )
    p.add_argument("--grep", metavar="RE", help="only lines matching this regular expression")
    p.add_argument("-t", "--timestamps", action="store_true", help="show the engine's timestamps")
    p.add_argument("--json", action="store_true", help="JSON Lines: time, replica, stream, line")
    p.add_argument(
        "--max-lines",
        type=int,
        default=1_000_000,
        metavar="N",
        help="bound on lines held while merging (default 1,000,000)",
    )


def run(args: argparse.Namespace) -> int:
    from ..core.engine import EngineUnavailable
    from ..core.logs import LineFormatter, LogSession, find_service, parse_since, sources_of

    def fail(message: str, code: int = 2) -> int:
        print(f"mltui logs: {message}", file=sys.stderr)
        return code

    try:
        tail = None if args.tail == "all" else int(args.tail)
        if tail is not None and tail < 0:
            raise ValueError
    except ValueError:
        return fail(f"--tail {args.tail!r}: give a number of lines or 'all'")
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        return fail(str(exc))
    try:
        grep = re.compile(args.grep) if args.grep else None
    except re.error as exc:
        return fail(f"--grep: not a regular expression: {exc}")

    engine = session = None
    try:
        engine, inventory, snapshot = engine_snapshot(args.host, "mltui logs")
        try:
            service = find_service(snapshot, args.service)
        except LookupError as exc:
            return fail(str(exc))
        sources = sources_of(service, args.replica)
        if not sources:
            which = f"replica {args.replica} of " if args.replica is not None else ""
            return fail(f"{which}{service.stack}/{service.name}: no replica has logs to read")
        session = LogSession(
            engine,
            sources,
            tail=tail,
            since=since,
            follow=args.follow,
            max_lines=args.max_lines,
        ).start()
        colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ and not args.json
        fmt = LineFormatter(
            session, timestamps=args.timestamps, colour=colour, as_json=args.json, grep=grep
        )
        out = sys.stdout
        next_look = time.monotonic() + 2.0
        while True:
            more = session.wait(0.25)
            chunk = session.take()
            if chunk.dropped:
                print(
                    f"mltui logs: {chunk.dropped} lines dropped (over --max-lines {args.max_lines})",
                    file=sys.stderr,
                )
            if chunk.lines:
                text = fmt.format(chunk.lines, chunk.origins)
                if text:
                    out.write("\n".join(text) + "\n")
                    out.flush()
            if not args.follow and not more and session.finished:
                chunk = session.take()
                if chunk.lines:
                    out.write("\n".join(fmt.format(chunk.lines, chunk.origins)) + "\n")
                return 0
            if args.follow and service.kind != "swarm" and session.all_ended:
                return 0  # like `docker logs -f`: the containers stopped (swarm would replace them)
            if args.follow and time.monotonic() >= next_look:
                # replicas come and go: follow the ones that replaced the old
                next_look = time.monotonic() + 2.0
                try:
                    snap = inventory.snapshot()
                    session.update(sources_of(find_service(snap, service.key), args.replica))
                except (LookupError, EngineUnavailable):
                    pass
    except EngineUnavailable as exc:
        return fail(exc.message)
    except BrokenPipeError:
        # the reader went away (`| head`): not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        if session is not None:
            session.close()
        if engine is not None:
            engine.close()
