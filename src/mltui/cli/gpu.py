"""`mltui gpu`: GPUs on the host, the engine's runtimes, each service's request and verdict."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from .common import connect


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gpu",
        help="does my container get the GPU: host (NVML), engine, each service, a verdict",
        description="GPUs on this host through NVML, the engine's runtimes, what each service "
        "asked for, and a verdict per service with the reason and the fix.",
    )
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument(
        "--check",
        metavar="SERVICE",
        help="also look inside SERVICE's first running replica (TensorFlow, PyTorch, "
        "nvidia-smi; read-only, with a timeout)",
    )


def run(args: argparse.Namespace) -> int:
    """The host's GPUs are shown even when the engine does not answer (exit 2 after)."""
    from ..core.engine import EngineUnavailable
    from ..core.gpu import (
        asked_for_gpu,
        check_inside,
        describe_inside,
        place_processes,
        read_host,
        verdict,
    )
    from ..core.inventory import Inventory
    from ..core.logs import find_service

    host = read_host()
    engine = connect(args.host)
    inside = checked = None
    try:
        info = engine.info()
        snapshot = Inventory(engine).snapshot()
        if args.check:
            try:
                checked = find_service(snapshot, args.check)
            except LookupError as exc:
                print(f"mltui gpu: {exc}", file=sys.stderr)
                return 2
            running = [r for r in checked.replicas if r.running and r.container_id]
            if not running:
                print(
                    f"mltui gpu: {args.check}: no running replica to look inside", file=sys.stderr
                )
                return 2
            inside = check_inside(engine, running[0].container_id)
    except EngineUnavailable as exc:
        info, snapshot, problem = None, None, exc.message
    else:
        problem = ""
    finally:
        engine.close()
    place_processes(host, snapshot)
    runtimes = info.runtimes if info else ()
    services = []
    for svc in snapshot.services() if snapshot else []:
        looked = inside if checked is not None and svc.key == checked.key else None
        v = verdict(svc, host, runtimes, looked)
        services.append(
            {
                "service": svc.label,
                "asked": svc.gpu.summary if asked_for_gpu(svc.gpu) and svc.gpu else "",
                "ok": v.ok,
                "verdict": v.reason,
                "fix": v.fix,
                **({"inside": describe_inside(looked)} if looked is not None else {}),
            }
        )
    if args.json:
        print(
            json.dumps(
                {
                    "host": asdict(host),
                    "engine": {
                        "runtimes": list(runtimes),
                        "default_runtime": info.default_runtime if info else "",
                        "cdi_spec_dirs": (
                            list(info.cdi_spec_dirs)
                            if info and info.cdi_spec_dirs is not None
                            else None
                        ),
                        "problem": problem,
                    },
                    "services": services,
                },
                indent=2,
            )
        )
        return 0
    if host.problem:
        print(f"host: {host.problem}")
    else:
        print(f"host: driver {host.driver}, CUDA {host.cuda}, {host.count} GPU(s)")
        for gpu in host.gpus:
            mem = (
                f"{gpu.memory_used_mib:.0f}/{gpu.memory_total_mib:.0f} MiB"
                if gpu.memory_total_mib
                else "memory ?"
            )
            print(f"  GPU {gpu.index}: {gpu.name} {gpu.uuid}  {mem}  util {gpu.utilization}%"
                  f"  {gpu.temperature} C  {gpu.power_w} W  MIG {'on' if gpu.mig else 'off'}")  # fmt: skip
            for p in gpu.processes:
                print(
                    f"    pid {p.pid} {p.memory_mib or 0:.0f} MiB  {p.where or p.container_id[:12] or 'host'}"
                )
    if info is None:
        print(f"engine: {problem}", file=sys.stderr)
        return 2
    nvidia = "nvidia" in runtimes
    print(
        f"engine: runtimes {', '.join(runtimes) or '-'} (default {info.default_runtime or '-'}); "
        f"nvidia runtime {'installed' if nvidia else 'not installed'}; CDI "
        + (
            "not reported by this engine"
            if info.cdi_spec_dirs is None
            else (", ".join(info.cdi_spec_dirs) or "no spec dirs")
        )
    )
    for s in services:
        mark = "ok " if s["ok"] else "!! "
        print(f"{mark}{s['service']}: {s['verdict']}" + (f" — {s['fix']}" if s["fix"] else ""))
        if "inside" in s:
            print(f"   inside: {s['inside']}")
    return 0
