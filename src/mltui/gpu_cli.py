"""`mltui gpu`: GPUs on the host, the engine's runtimes, each service's request and verdict."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gpu",
        help="does my container get the GPU: host (NVML), engine, each service, a verdict",
        description="GPUs on this host through NVML, the engine's runtimes, what each service "
        "asked for, and a verdict per service with the reason and the fix.",
    )
    p.add_argument("--json", action="store_true", help="print JSON for scripts")


def cmd_gpu(args: argparse.Namespace, engine_factory) -> int:
    from .core.engine import EngineUnavailable
    from .core.gpu import asked_for_gpu, place_processes, read_host, verdict
    from .core.inventory import Inventory

    host = read_host()
    engine = engine_factory()
    try:
        info = engine.info()
        snapshot = Inventory(engine).snapshot()
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
        v = verdict(svc, host, runtimes)
        services.append(
            {
                "service": f"{svc.stack}/{svc.name}"
                if svc.stack and not svc.stack.startswith("(")
                else svc.name,
                "asked": svc.gpu.summary if asked_for_gpu(svc.gpu) and svc.gpu else "",
                "ok": v.ok,
                "verdict": v.reason,
                "fix": v.fix,
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
        f"nvidia runtime {'installed' if nvidia else 'not installed'}"
    )
    for s in services:
        mark = "ok " if s["ok"] else "!! "
        print(f"{mark}{s['service']}: {s['verdict']}" + (f" — {s['fix']}" if s["fix"] else ""))
    return 0
