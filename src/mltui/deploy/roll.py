"""`mltui roll`: a new image for a model-serving service, rolled out, smoke-tested
against the service's last predict run, kept or rolled back.

The steps: the baseline (the saved last run of the service, else the folder run
now, before anything changes); the image (built from the compose file's
``build:`` with a unique tag, or the one named); the rollout (:mod:`.rollout`);
the model AVAILABLE at the URL; the same images again; the comparison; the
gates; and, when a gate fails or the new replicas crash, the way back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..core.engine import EngineTarget
from ..core.inventory import Inventory, Snapshot
from ..core.predict import lastrun
from ..core.predict.gates import GateCheck, Gates, check_gates
from ..core.textsafe import safe_text
from .actions import ActionError
from .rollout import (
    Target,
    crash_of,
    find_target,
    image_id,
    move,
    previous_tag,
    tag_image,
    unique_tag,
)

AVAILABLE_S = 120.0
REACH_S = 20.0  # how long to look for replicas the URL has not reached yet


@dataclass
class RollOptions:
    service: str  # STACK/SERVICE
    build: bool = False
    image: str = ""
    file: str = ""  # the compose file with the service's build: (default: the project's)
    url: str = ""
    model: str = ""
    folder: str = ""
    classes: str = ""
    gates: Gates = field(default_factory=Gates)
    rollback: bool = True
    timeout: float = 180.0


@dataclass
class RollOutcome:
    code: int  # 0 kept, 1 gate failed or crashed (rolled back unless asked not to), 2 could not run
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    # the way back to the previous image, when the new one was left running
    undo: Callable[[Callable[[str], None]], RollOutcome] | None = field(
        default=None, repr=False, compare=False
    )


class RollError(Exception):
    """The roll could not run: one sentence (what was changed is said in it)."""


def _published_url(t: Target) -> str:
    for port in t.svc.ports:
        head = port.split("->", 1)[0]
        digits = head.rpartition(":")[2]
        if digits.isdigit():
            host = head.rpartition(":")[0] or "127.0.0.1"
            host = "127.0.0.1" if host in ("0.0.0.0", "::", "[::]") else host
            return f"http://{host}:{digits}"
    return ""


def _build(t: Target, opts: RollOptions, report: Callable[[str], None]) -> str:
    """Build the service's image from its compose file; its id."""
    from .composefile import ComposeError, load
    from .up import build_call, run_build

    files, searching = _build_files(t, opts)
    for full in files:
        try:
            compose = load(full)
        except ComposeError as exc:
            if searching:
                continue  # a file of the current folder that is not this stack's
            raise RollError(str(exc)) from None
        svcdef = next((s for s in compose.services if s.name == t.svc.name), None)
        if svcdef is None or svcdef.build is None:
            continue
        if not Path(svcdef.build.context).is_dir():
            raise RollError(f"the build folder {safe_text(svcdef.build.context)} does not exist")
        tags = svcdef.tags(t.stack.name)
        call = build_call(t.target, (tags[0],), svcdef.build)
        report(f"building {safe_text(tags[0])}: {call.shown}")
        result = run_build(call, report, f"build {safe_text(tags[0])}")
        if not result.ok:
            raise RollError(result.message + " (nothing was rolled out)")
        built = image_id(t.target, tags[0])
        if not built:
            raise RollError(f"the build said done but {safe_text(tags[0])} is not on the engine")
        return built
    if searching:
        raise RollError(
            f"which compose file builds {t.svc.label} is unknown (mltui did not deploy it and "
            f"no compose file here gives service {t.svc.name} a build:): pass --file"
        )
    raise RollError(f"no compose file of {t.svc.label} gives service {t.svc.name} a build:")


def _build_files(t: Target, opts: RollOptions) -> tuple[list[Path], bool]:
    """The compose files that may build ``t``, and whether they are a guess (the
    current folder's): --file; Compose's config-files label; the file `mltui up`
    deployed the stack from; else the current folder's compose files."""
    from .stackfiles import folder_files, recorded_file

    if opts.file:
        return [Path(opts.file).expanduser()], False
    if t.stack.config_files:
        base = Path(t.stack.working_dir or ".")
        return [base / path for path in t.stack.config_files], False
    recorded = recorded_file(t.engine, t.stack.name)
    if recorded:
        return [Path(recorded)], False
    return folder_files(), True


def _side(served: Any, results: list[Any], summary: Any) -> Any:
    from ..core.predict.compare import Side

    return Side(served, results, summary)


class _Run:
    """One roll, its steps recorded for --json and the screen."""

    def __init__(self, opts: RollOptions, report: Callable[[str], None]) -> None:
        self.opts = opts
        self.report = report
        self.data: dict[str, Any] = {"service": opts.service, "steps": []}

    def step(self, name: str, text: str) -> None:
        self.data["steps"].append({"step": name, "text": text})
        self.report(f"{name}: {text}")


def _replica_names(into: list[tuple[str, str]]) -> Callable[..., None]:
    """A requests response hook: each answer's path and the replica it names
    (``X-Replica``), in order, into ``into``."""

    def note(answer: Any, *_a: Any, **_k: Any) -> None:
        name = answer.headers.get("X-Replica")
        if name:
            into.append((urlsplit(str(answer.url)).path, safe_text(name, 80)))

    return note


def _status_replica(named: list[tuple[str, str]], model: str) -> str:
    """The replica that gave the model's status answer (the last one asked), ""
    when no status answer named one. A describe asks several things and behind a
    balancer each may reach another replica: only the one whose answer said the
    state counts, not one that answered the detection or the metadata."""
    for path, name in reversed(named):
        if path.rstrip("/").endswith((f"/models/{model}", f"/models/{model}/ready")):
            return name
    return ""


def _wait_available(
    url: str,
    model: str,
    report: Callable[[str], None],
    crash: Callable[[], str],
    replicas: int = 1,
) -> tuple[str, str]:
    """("", where it was seen) once the model is AVAILABLE on every replica the URL
    reaches, else (why not, ""): the time bound, or ``crash()`` naming replicas that
    crashed meanwhile.

    Behind a load balancer each answer comes from one replica: a server that names
    its replica (an ``X-Replica`` header, as the demo's does) is asked until each of
    ``replicas`` names has answered AVAILABLE, or until REACH_S after the first such
    answer (a sticky balancer may never reach some); a server that names none, until
    ``replicas`` answers in a row said AVAILABLE. A replica that answers otherwise
    starts the count again."""
    import requests

    from ..core.predict.models import PredictError, describe

    deadline = time.monotonic() + AVAILABLE_S
    want = max(1, replicas)
    last = ""
    ready: set[str] = set()  # replicas that answered AVAILABLE
    in_a_row = 0
    first_ready = 0.0
    while True:
        crashing = crash()
        if crashing:
            return crashing, ""
        named: list[tuple[str, str]] = []
        session = requests.Session()
        session.hooks["response"].append(_replica_names(named))
        try:
            rep = describe(url, model, session=session, timeout=5.0)
            states = [v.state for v in rep.versions]
            ok = bool(rep.versions) and all(s in ("AVAILABLE", "READY") for s in states)
            ok = ok or (
                not rep.versions and rep.protocol == "kserve-v1" and "ready" in rep.state.lower()
            )
            seen = ", ".join(f"{v.version} {v.state}" for v in rep.versions) or rep.state
        except PredictError as exc:
            ok, seen = False, str(exc)
        finally:
            session.close()
        answered = _status_replica(named, model)
        if ok:
            if answered:
                ready.add(answered)
            in_a_row += 1
            first_ready = first_ready or time.monotonic()
        else:
            ready.discard(answered)
            in_a_row = 0
        names = ", ".join(sorted(ready))
        if ok and ready and len(ready) >= want:
            return "", f"on {len(ready)} of {want} replicas ({names})"
        if ok and not ready and in_a_row >= want:
            return "", f"in {in_a_row} answers in a row" if want > 1 else ""
        if ok and ready and time.monotonic() - first_ready >= REACH_S:
            return "", f"on the {len(ready)} of {want} replicas it reached ({names})"
        if named and replicas > 1:
            seen += f" ({len(ready)}/{want} replicas AVAILABLE)"
        if seen != last:
            report(f"model: {safe_text(seen, 300)}")
            last = seen
        if time.monotonic() >= deadline:
            return f"model {model} is not AVAILABLE at {url} after {AVAILABLE_S:.0f}s: {seen}", ""
        time.sleep(0.25 if ok else 0.5)


def roll(
    opts: RollOptions,
    inventory: Inventory,
    snapshot: Snapshot,
    target: EngineTarget | None,
    engine: str,
    report: Callable[[str], None],
    predict_defaults: Any = None,
) -> RollOutcome:
    run = _Run(opts, report)
    try:
        return _roll(run, inventory, snapshot, target, engine, predict_defaults)
    except (RollError, ActionError) as exc:
        run.data["action"] = "none"
        return RollOutcome(2, str(exc), run.data)


def _roll(
    run: _Run,
    inventory: Inventory,
    snapshot: Snapshot,
    target: EngineTarget | None,
    engine: str,
    defaults: Any,
) -> RollOutcome:
    from ..core import predict as core
    from ..core.predict.compare import compare_results
    from ..core.predict.compare import to_json as compare_json

    opts = run.opts
    t = find_target(snapshot, opts.service, inventory, target, engine)
    path = lastrun.run_path(engine, t.svc.label)
    saved, problem = lastrun.load_run(path)
    if problem:
        run.step("baseline", problem)
    endpoint = defaults.endpoint_for(model=opts.model, service=t.svc.label) if defaults else None
    url = opts.url or (saved.url if saved else "") or (endpoint.url if endpoint else "")
    url = url or _published_url(t)
    model = opts.model or (saved.model if saved else "") or (endpoint.model if endpoint else "")
    model = model or "my_model"
    folder = opts.folder or (saved.folder if saved else "") or (endpoint.folder if endpoint else "")
    classes_file = (
        opts.classes or (saved.classes if saved else "") or (endpoint.classes if endpoint else "")
    )
    if not url:
        raise RollError(f"{t.svc.label} publishes no port: give --url")
    if not folder or not Path(folder).expanduser().is_dir():
        why = f"{folder}: not a folder" if folder else "no saved run and no --folder"
        raise RollError(f"{why}: the smoke test needs a folder of images")
    folder_path = Path(folder).expanduser()
    if not classes_file and (folder_path / "classes.txt").is_file():
        classes_file = str(folder_path / "classes.txt")
    try:
        classes = core.load_classes(Path(classes_file).expanduser() if classes_file else None)
    except (OSError, core.PredictError) as exc:
        raise RollError(str(exc)) from None
    if saved and saved.folder == str(folder_path) and not opts.folder:
        options = core.RunOptions(
            saved.concurrency, saved.batch, saved.scale, saved.top_k, saved.timeout
        )
    else:
        d = defaults
        options = (
            core.RunOptions(d.concurrency, d.batch, d.scale, d.top_k, d.timeout_s)
            if d
            else core.RunOptions()
        )
    try:
        served = core.detect(url, model)
    except core.PredictError as exc:
        raise RollError(f"before the rollout: {exc}") from None
    # the baseline
    if saved and saved.folder == str(folder_path):
        base_results, base_summary = saved.results, saved.summary
        run.step("baseline", f"the last run of {t.svc.label} ({len(saved.results)} images)")
    else:
        start = time.perf_counter()
        base_results = core.run(served, folder_path, classes, options)
        base_summary = core.summarize(base_results, time.perf_counter() - start)
        run.step("baseline", f"ran {folder_path} on the running version: {_short(base_summary)}")
    run.data["baseline"] = _summary_json(base_summary)
    # the image
    prev = previous_tag(t.image_name, t.svc.name)
    if not t.running_id:
        raise RollError(f"the image {safe_text(t.image_name)} of {t.svc.label} is not on {engine}")
    tag_image(t.target, t.running_id, prev)
    run.step("previous", f"the running image is tagged {safe_text(prev)}")
    if opts.image:
        new_id = image_id(t.target, opts.image)
        if not new_id:
            raise RollError(
                f"image {safe_text(opts.image)} does not exist on {engine} (nothing is pulled)"
            )
    else:
        new_id = _build(t, opts, run.report)
    new_ref = unique_tag(t.image_name, t.svc.name, new_id)
    tag_image(t.target, new_id, new_ref)
    run.data["image"] = {
        "previous": prev,
        "previous_id": t.running_id,
        "new": new_ref,
        "new_id": new_id,
    }
    run.step("image", f"{safe_text(new_ref)} ({new_id.removeprefix('sha256:')[:12]})")
    if new_id == t.running_id:
        run.data["action"] = "none"
        return RollOutcome(
            0, f"{t.svc.label} already runs {safe_text(new_ref)}: nothing to roll out", run.data
        )
    # the rollout
    since = time.time()
    restarts = t.svc.restarts
    ok, text = move(inventory, t, new_ref, new_id, run.report, since, restarts, opts.timeout)
    run.step("rollout", text)
    if not ok:
        return _back(run, inventory, t, text, since)
    why, where = _wait_available(
        url, model, run.report, lambda: crash_of(inventory, t, since, restarts), t.replicas
    )
    if why:
        return _back(run, inventory, t, why, since)
    run.step(
        "model", f"{model} AVAILABLE at {url}" + (f" {safe_text(where, 300)}" if where else "")
    )
    try:
        served_new = core.detect(url, model)
    except core.PredictError as exc:
        return _back(run, inventory, t, f"after the rollout: {exc}", since)
    start = time.perf_counter()
    new_results = core.run(served_new, folder_path, classes, options)
    new_summary = core.summarize(new_results, time.perf_counter() - start)
    run.step("smoke test", _short(new_summary))
    run.data["new"] = _summary_json(new_summary)
    cmp = compare_results(
        _side(served, base_results, base_summary), _side(served_new, new_results, new_summary)
    )
    run.data["comparison"] = compare_json(cmp)
    checks = check_gates(opts.gates, base_summary, new_summary)
    run.data["gates"] = [_gate_json(c) for c in checks]
    for c in checks:
        run.step("gate", ("pass: " if c.passed else "FAIL: ") + c.message)
    bad = [c for c in checks if not c.passed]
    if bad:
        return _back(run, inventory, t, "; ".join(c.message for c in bad), since, gate=True)
    run.data["action"] = "kept"
    problem = lastrun.save_run(
        path,
        lastrun.SavedRun(
            str(folder_path),
            classes_file,
            url,
            model,
            options.concurrency,
            options.batch,
            options.scale,
            options.top_k,
            options.timeout,
            "",
            new_summary,
            new_results,
            time.time(),
        ),
    )
    if problem:
        run.step("saved", problem)
    kept = RollOutcome(0, f"{t.svc.label} runs {safe_text(new_ref)}: passed, kept", run.data)
    kept.undo = _undo(run.opts, inventory, t)
    return kept


def _undo(
    opts: RollOptions, inventory: Inventory, t: Target
) -> Callable[[Callable[[str], None]], RollOutcome]:
    """Rolling back later, when the user asks (the TUI's confirmed key)."""
    import dataclasses

    def undo(report: Callable[[str], None]) -> RollOutcome:
        again = _Run(dataclasses.replace(opts, rollback=True), report)
        out = _back(again, inventory, t, "asked for", time.time(), what="rolling back")
        return RollOutcome(
            0 if out.data.get("action") == "rolled back" else 1, out.message, out.data
        )

    return undo


def _back(
    run: _Run,
    inventory: Inventory,
    t: Target,
    why: str,
    since: float,
    gate: bool = False,
    what: str = "",
) -> RollOutcome:
    what = what or ("a gate failed" if gate else "the rollout failed")
    run.data["failure"] = why
    if not run.opts.rollback:
        run.data["action"] = "left (--no-rollback)"
        left = RollOutcome(1, f"{what}: {why}; left as it is (--no-rollback)", run.data)
        left.undo = _undo(run.opts, inventory, t)
        return left
    run.step("rollback", f"{what}: {why}")
    prev = previous_tag(t.image_name, t.svc.name)
    ok, text = move(
        inventory, t, prev, t.running_id, run.report, time.time(), 0, run.opts.timeout, True
    )
    run.data["action"] = "rolled back" if ok else "rollback did not finish"
    if not ok:
        return RollOutcome(1, f"{what}: {why}; rolling back did not finish: {text}", run.data)
    return RollOutcome(1, f"{what}: {why}; rolled back: {text}", run.data)


def _short(s: Any) -> str:
    acc = "-" if s.accuracy is None else f"{s.accuracy:.3f}"
    p95 = "-" if s.p95_ms is None else f"{s.p95_ms:.1f} ms"
    return f"{s.images} images, accuracy {acc}, p95 {p95}, {s.failed} failed"


def _summary_json(s: Any) -> dict[str, Any]:
    return {
        "images": s.images,
        "failed": s.failed,
        "accuracy": s.accuracy,
        "labelled": s.labelled,
        "p50_ms": s.p50_ms,
        "p95_ms": s.p95_ms,
        "max_ms": s.max_ms,
        "versions": list(s.versions),
    }


def _gate_json(c: GateCheck) -> dict[str, Any]:
    return {
        "gate": c.name,
        "limit": c.limit,
        "value": c.value,
        "passed": c.passed,
        "message": c.message,
    }


__all__ = ["RollError", "RollOptions", "RollOutcome", "roll"]
