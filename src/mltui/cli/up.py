"""`mltui up FILE`: build what has `build:`, deploy as a swarm stack or a Compose
project on the engine mltui watches, and wait until every service runs."""

from __future__ import annotations

import argparse

from .act import act, add_common


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "up",
        help="build and deploy a compose file (swarm stack or Compose project), after asking",
        description="Refuse a file that publishes a port already in use (by a container or "
        "service of the engine, or on a local engine by another program). Build every service "
        "with a build: section (docker build, tagged as its "
        "image: says), then deploy the file: docker stack deploy when the engine is a swarm "
        "manager, else compose up -d; then wait until every service runs its replicas, or "
        "say which step failed. Asks first; --yes does not.",
    )
    p.add_argument("file", metavar="FILE", help="the compose file")
    p.add_argument("--name", default="", help="stack or project name (default: the file's folder)")
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--compose", dest="mode", action="store_const", const="compose", help="deploy with Compose"
    )
    how.add_argument(
        "--swarm", dest="mode", action="store_const", const="swarm", help="deploy as a swarm stack"
    )
    p.add_argument("--no-build", action="store_true", help="build nothing: every image must exist")
    p.add_argument("--detach", action="store_true", help="return once deployed, without waiting")
    p.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the services (300)"
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    from ..deploy.up import plan_up

    return act(
        args,
        "mltui up",
        lambda snap, target: plan_up(
            snap, args.file, target, args.name, args.mode or "", not args.no_build
        ),
    )
