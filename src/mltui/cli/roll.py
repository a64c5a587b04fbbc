"""`mltui roll STACK/SERVICE`: rebuild (or take an image), roll out, smoke-test,
compare with the last run, keep or roll back.

Exit status: 0 the new version passed and stays, 1 a gate failed or the new
replicas crashed (rolled back unless --no-rollback), 2 it could not run
(refused, declined, a bad target, no folder to test with).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .act import _say, add_common, confirm
from .common import CommandError, engine_snapshot, exits_when_down, load_config

WHO = "mltui roll"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "roll",
        help="roll a model server onto a new image, smoke-test it, keep it or roll back",
        description="Build the service's image from its compose file's build: (or take "
        "--image), give it a unique tag, roll it out replica by replica, wait until the "
        "model is AVAILABLE, rerun the service's last predict run (else run --folder "
        "before the rollout as the baseline), compare, and check the gates: pass, it "
        "stays (exit 0); fail, it is rolled back (exit 1). Exit 2: it could not run.",
    )
    p.add_argument("service", metavar="STACK/SERVICE")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--build", action="store_true", help="build from the compose file (the default)"
    )
    which.add_argument("--image", metavar="TAG", help="roll out this image (never pulled)")
    p.add_argument("--file", metavar="FILE", help="the compose file that builds the service")
    p.add_argument("--url", help="the model server (default: the last run's, else the port)")
    p.add_argument("--model", help="model name (default: the last run's, else my_model)")
    p.add_argument("--folder", type=Path, help="test images (default: the last run's)")
    p.add_argument("--classes", type=Path, metavar="FILE", help="class names file")
    p.add_argument("--max-accuracy-drop", type=float, metavar="X", help="gate: 0..1")
    p.add_argument("--max-p95-ms", type=float, metavar="N", help="gate: p95 latency")
    p.add_argument("--min-accuracy", type=float, metavar="X", help="gate: 0..1")
    p.add_argument("--no-rollback", action="store_true", help="leave a failed version running")
    p.add_argument("--timeout", type=float, default=180.0, metavar="S", help="rollout bound")
    p.add_argument("--json", action="store_true", help="the whole run as JSON on stdout")
    add_common(p)


def _gate(value: float | None, name: str, high: float) -> float | None:
    if value is None:
        return None
    if not 0 <= value <= high:  # NaN fails too
        raise CommandError(WHO, f"--{name.replace('_', '-')} {value}: give 0 to {high:g}")
    return value


def run(args: argparse.Namespace) -> int:
    from ..core.predict.gates import Gates
    from ..deploy.actionlock import Busy, target_lock
    from ..deploy.actionlog import append
    from ..deploy.actions import _engine_name
    from ..deploy.roll import RollOptions, roll

    config, _ = load_config(args, quiet=True)
    if args.read_only or config.read_only:
        why = "--read-only" if args.read_only else "read_only = true in the config"
        raise CommandError(WHO, f"refused: mltui is read-only ({why})")
    p = config.predict
    gates = Gates(
        _gate(
            args.max_accuracy_drop if args.max_accuracy_drop is not None else p.max_accuracy_drop,
            "max_accuracy_drop",
            1.0,
        ),
        _gate(
            args.max_p95_ms if args.max_p95_ms is not None else p.max_p95_ms, "max_p95_ms", 3.6e6
        ),
        _gate(
            args.min_accuracy if args.min_accuracy is not None else p.min_accuracy,
            "min_accuracy",
            1.0,
        ),
    )
    engine, inventory, snapshot = engine_snapshot(args.host, WHO)
    try:
        name = _engine_name(snapshot, engine.target)
        how = f"image {args.image}" if args.image else "a build from its compose file"
        question = f"Roll {args.service} on {name} onto {how}, smoke-test it and " + (
            "leave it whatever the verdict?" if args.no_rollback else "roll back if it fails?"
        )
        refusal = confirm(question, args.yes, sys.stdin, sys.stderr)
        if refusal:
            raise CommandError(WHO, refusal)
        opts = RollOptions(
            args.service,
            build=not args.image,
            image=args.image or "",
            file=args.file or "",
            url=args.url or "",
            model=args.model or "",
            folder=str(args.folder.expanduser().resolve()) if args.folder else "",
            classes=str(args.classes.expanduser()) if args.classes else "",
            gates=gates,
            rollback=not args.no_rollback,
            timeout=args.timeout,
        )
        try:
            with exits_when_down(WHO), target_lock(name, args.service, f"roll {args.service}"):
                outcome = roll(
                    opts,
                    inventory,
                    snapshot,
                    engine.target,
                    name,
                    lambda text: _say(WHO, text),
                    p,
                )
        except Busy as exc:
            raise CommandError(WHO, str(exc)) from None
    finally:
        engine.close()
    if outcome.code != 2 or outcome.data.get("image"):
        problem = append(
            name, args.service, f"mltui roll {args.service}", outcome.data.get("action", "")
        )
        if problem:
            _say(WHO, problem)
    outcome.data["exit"] = outcome.code
    outcome.data["message"] = outcome.message
    if args.json:
        print(json.dumps(outcome.data, indent=1, allow_nan=False, default=str))
    _say(WHO, outcome.message)
    return outcome.code
