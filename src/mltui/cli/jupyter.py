"""`mltui jupyter [SERVICE]`: the URL (with token) of each notebook server."""

from __future__ import annotations

import argparse
import json
import sys

from .common import CommandError, engine_snapshot, exits_when_down


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "jupyter",
        help="the URL, with its token, of every notebook server (or of SERVICE)",
        description="Find Jupyter servers in the stacks and print the URL that opens each "
        "from this machine (the host's published port), and whether it answers.",
    )
    p.add_argument("service", nargs="?", metavar="SERVICE")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument(
        "--show-token", action="store_true", help="print tokens in full (masked otherwise)"
    )


def run(args: argparse.Namespace) -> int:
    from ..core.jupyter import find_notebooks
    from ..core.textsafe import safe_text

    engine, _inventory, snapshot = engine_snapshot(args.host, "mltui jupyter")
    try:
        with exits_when_down("mltui jupyter"):
            scan = find_notebooks(engine, snapshot, service=args.service)
    except LookupError as exc:
        raise CommandError("mltui jupyter", str(exc)) from None
    finally:
        engine.close()
    notebooks = scan.notebooks
    if args.json:
        print(json.dumps([n.as_dict(args.show_token) for n in notebooks], indent=2))
        return 0 if notebooks else 1
    if not notebooks:
        where = f"in {args.service}" if args.service else "on this engine"
        print(f"no notebook server found {where}", file=sys.stderr)
        return 1
    for n in notebooks:  # every field through the text-safety table: it came from containers
        url = n.url if args.show_token else n.masked_url
        print(f"{safe_text(n.service)}  {safe_text(n.replica)}  {safe_text(n.status)}")
        if url:
            print(f"  {safe_text(url)}")
        if n.note:
            print(f"  {safe_text(n.note)}")
    return 0
