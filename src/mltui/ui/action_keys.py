"""The services screen's action keys: scale, restart, stop, start, down, rollback,
up and shell on the row under the cursor.

Each key plans in a worker (a plan may ask the docker CLI or the engine), asks
in the confirmation dialog, and on Yes runs the plan in a worker while the
action screen shows its progress; the action log gets one line. Nothing runs
without Yes. In read-only mode every key is hidden and refused. A second action
on a target that one is already changing is refused here (and, across
processes, by the target's lock in deploy/actionlock.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

from textual import events
from textual.app import SuspendNotSupported
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import get_current_worker

from ..core.detail import replica_of, stack_of
from ..core.engine import Engine, EngineTarget
from ..core.inventory import Inventory
from ..core.inventory.coalesce import Changes
from ..core.inventory.model import Service, Snapshot
from ..core.report import Level, Row
from ..core.textsafe import safe_text
from ..deploy.actions import ActionError, Plan, Result
from .action_bindings import ACTION_BINDINGS, ACTION_IDS, ACTIONS
from .actions import ActionRun, ActionScreen
from .confirm import Answer, ConfirmScreen
from .prompts import ScaleScreen, UpRequest, UpScreen
from .requests import app_state

Maker = Callable[[Snapshot, EngineTarget], Plan]  # a plan from a snapshot and the engine
READ_ONLY = "refused: mltui is read-only (--read-only, or read_only = true in the config)"


class Abandoned(Exception):
    """mltui is closing while an action waits for its change: stop waiting."""


class WatchedInventory(Inventory):
    """The inventory an action waits on, which stops the wait once ``stop()``
    says so (the app is closing: its worker thread must not keep it open for
    the minutes a rollout may take). What was submitted goes on in the engine."""

    def __init__(self, engine: Engine, stop: Callable[[], bool]) -> None:
        super().__init__(engine)
        self._stop = stop

    def snapshot(self, inspect_new: bool = True, changes: Changes | None = None) -> Snapshot:
        if self._stop():
            raise Abandoned
        return super().snapshot(inspect_new, changes)


def overlaps(a: str, b: str) -> bool:
    """Whether actions on ``a`` and ``b`` touch the same thing: the same target, or
    a stack and one of its services."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


class ActionKeys(Screen):
    """The keys that change a stack; the services screen is one of these."""

    BINDINGS = ACTION_BINDINGS

    snapshot: Snapshot | None

    def __init__(self) -> None:
        super().__init__()
        self.action_runs: dict[str, ActionRun] = {}  # by target, while each runs

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast whose text is taken as it is: action messages carry names,
        paths and build output from outside, and "[/x]" in them would otherwise
        be read as markup (a wrong closing tag ends the app)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # -- what the row under the cursor is (the services screen knows) -----------
    def cursor_row(self) -> Row | None:
        raise NotImplementedError

    def _row_service(self) -> tuple[Service | None, int | None]:
        """The service under the cursor, and the replica slot on a replica row."""
        row, snapshot = self.cursor_row(), self.snapshot
        if row is None or snapshot is None or row.id.level is Level.STACK:
            return None, None
        svc = snapshot.service(row.id.service)
        replica = replica_of(snapshot, row.id)
        return svc, (replica.slot if replica is not None else None)

    def _row_stack(self) -> str | None:
        """The stack or Compose project of the row under the cursor."""
        row, snapshot = self.cursor_row(), self.snapshot
        if row is None or snapshot is None:
            return None
        stack = stack_of(snapshot, row.id)
        if stack is None or stack.kind not in ("swarm", "compose") or not stack.name:
            return None
        return stack.name

    # -- read-only ----------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return app_state(self.app).config.read_only

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: every action key is gone from the footer and the palette."""
        if action in ACTIONS and self.read_only:
            return False
        return super().check_action(action, parameters)

    def _action_keys(self) -> set[str]:
        keymap = app_state(self.app).config.keys
        keys: set[str] = set()
        for binding in [*ACTION_BINDINGS, *self._roll_bindings()]:
            if isinstance(binding, Binding) and binding.id in ACTION_IDS:
                chosen = keymap.get(binding.id, binding.key)
                keys |= {k.strip() for k in chosen.split(",")}
        return keys

    def _roll_bindings(self) -> list[Binding]:
        from .services_bindings import SERVICES_BINDINGS

        return [b for b in SERVICES_BINDINGS if isinstance(b, Binding) and b.action == "roll"]

    def on_key(self, event: events.Key) -> None:
        """Read-only: an action key (hidden, not bound) says why nothing happens."""
        if self.read_only and event.key in self._action_keys():
            event.stop()
            event.prevent_default()
            self.notify(READ_ONLY, severity="warning", timeout=6)

    # -- the keys -------------------------------------------------------------------
    def _busy(self, target: str) -> bool:
        """Refuse (with a message) an action on a target another one is changing."""
        for other, job in self.action_runs.items():
            if job.running and overlaps(other, target):
                self.notify(
                    f"refused: {job.plan.verb} {safe_text(other)} is still running; "
                    "wait for it to end (its screen shows how far it is)",
                    severity="warning",
                    timeout=8,
                )
                return True
        return False

    def _service_or_say(self, what: str) -> tuple[Service, int | None] | None:
        svc, slot = self._row_service()
        if svc is None or svc.kind not in ("swarm", "compose"):
            self.notify(
                f"{what}: put the cursor on a swarm or Compose service or replica",
                severity="warning",
            )
            return None
        if self._busy(svc.label):
            return None
        return svc, slot

    def action_act_scale(self) -> None:
        found = self._service_or_say("scale")
        if found is None:
            return
        svc, _slot = found
        current = svc.desired

        def chosen(replicas: int | None) -> None:
            if replicas is None:
                return
            from ..deploy.actions import plan_scale

            self._plan(lambda s, t: plan_scale(s, svc.label, replicas, t))

        self.app.push_screen(ScaleScreen(svc.label, current), chosen)

    def action_act_restart(self) -> None:
        found = self._service_or_say("restart")
        if found is None:
            return
        svc, slot = found
        from ..deploy.actions import plan_restart

        self._plan(lambda s, t: plan_restart(s, svc.label, t, replica=slot))

    def action_act_rollback(self) -> None:
        found = self._service_or_say("roll back")
        if found is None:
            return
        self._roll_back(found[0].label)

    def _roll_back(self, label: str) -> None:
        from ..deploy.rollback import plan_rollback

        self._plan(lambda s, t: plan_rollback(s, label, t))

    def _stack_or_service(self, what: str) -> str | None:
        """A stack row: its stack or project; a service or replica row: the service."""
        row = self.cursor_row()
        if row is not None and row.id.level is Level.STACK:
            name = self._row_stack()
        else:
            svc, _slot = self._row_service()
            name = svc.label if svc is not None and svc.kind in ("swarm", "compose") else None
        if name is None:
            self.notify(
                f"{what}: put the cursor on a Compose project or one of its services",
                severity="warning",
            )
            return None
        return None if self._busy(name) else name

    def action_act_stop(self) -> None:
        name = self._stack_or_service("stop")
        if name is not None:
            from ..deploy.startstop import plan_stop

            self._plan(lambda s, t: plan_stop(s, name, t))

    def action_act_start(self) -> None:
        name = self._stack_or_service("start")
        if name is not None:
            from ..deploy.startstop import plan_start

            self._plan(lambda s, t: plan_start(s, name, t))

    def action_act_down(self) -> None:
        name = self._row_stack()
        if name is None:
            self.notify(
                "down: put the cursor on a swarm stack or a Compose project (or one of its rows)",
                severity="warning",
            )
            return
        if self._busy(name):
            return
        from ..deploy.actions import plan_down

        self._plan(lambda s, t: plan_down(s, name, t))

    def action_act_up(self) -> None:
        info = app_state(self.app).engine_info
        manager = info.swarm == "active" and info.swarm_manager

        def chosen(request: UpRequest | None) -> None:
            if request is None:
                return
            from ..deploy.up import plan_up

            self._plan(lambda s, t: plan_up(s, request.file, t, mode=request.mode))

        self.app.push_screen(UpScreen(os.getcwd(), manager), chosen)

    def action_act_shell(self) -> None:
        svc, slot = self._row_service()
        if svc is None:
            self.notify("shell: put the cursor on a service or a replica", severity="warning")
            return
        self._shell_argv(svc.label, slot)

    # -- plan, ask, run ---------------------------------------------------------------
    def _plan(self, make: Maker, second: bool = False) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            self.notify("the inventory is not read yet", severity="warning")
            return
        target = app_state(self.app).engine.target
        self.run_worker(
            partial(self._plan_worker, make, snapshot, target, second),
            thread=True,
            group="action-plan",
            exit_on_error=False,
            description="plan an action",
        )

    def _plan_worker(
        self,
        make: Maker,
        snapshot: Snapshot,
        target: EngineTarget,
        second: bool,
    ) -> None:
        try:
            plan = make(snapshot, target)
        except ActionError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=10)
            return
        except Exception as exc:  # an engine or CLI that failed while asked: say so
            self.app.call_from_thread(
                self.notify, safe_text(f"cannot plan it: {exc}"), severity="error", timeout=10
            )
            return
        self.app.call_from_thread(self._confirm, plan, second)

    def _confirm(self, plan: Plan, second: bool = False) -> None:
        def answered(answer: Answer | None) -> None:
            if answer is None or not answer.yes:
                return
            if answer.volumes:
                from ..deploy.actions import plan_down

                # the volumes are listed now, and asked about once more
                self._plan(lambda s, t: plan_down(s, plan.target, t, volumes=True), second=True)
                return
            self._start(plan)

        self.app.push_screen(ConfirmScreen(plan, second=second), answered)

    def _start(self, plan: Plan) -> None:
        if self.read_only:  # a config reloaded meanwhile, or a keymap that got around
            self.notify(READ_ONLY, severity="warning")
            return
        if self._busy(plan.target):
            return
        job = ActionRun(plan)
        self.action_runs[plan.target] = job
        self.app.push_screen(ActionScreen(job, on_roll_back=self._roll_back_after))
        self.run_worker(
            partial(self._execute, job),
            thread=True,
            group="action-run",
            exit_on_error=False,
            description=f"{plan.verb} {plan.target}",
        )

    def _roll_back_after(self, job: ActionRun) -> None:
        label = job.roll_back_target
        if label and not self._busy(label):
            self._roll_back(label)

    class Lines(Message):
        """Progress lines of ``job`` wait in its inbox (posted from its thread)."""

        def __init__(self, job: ActionRun) -> None:
            super().__init__()
            self.job = job

    def _offer(self, job: ActionRun, line: str) -> None:
        """From the action's thread, without waiting for the UI."""
        if job.offer(line):
            self.post_message(self.Lines(job))

    def on_action_keys_lines(self, message: Lines) -> None:
        message.job.drain()

    def _execute(self, job: ActionRun) -> None:
        from ..deploy.actionlog import append
        from ..deploy.actions import execute

        plan = job.plan
        call = self.app.call_from_thread
        worker = get_current_worker()
        try:
            engine = app_state(self.app).engine_factory()
        except Exception as exc:
            call(self._finished, job, Result(False, safe_text(f"no engine: {exc}"), False), "")
            return
        try:
            inventory = WatchedInventory(engine, lambda: worker.is_cancelled)
            result = execute(plan, inventory, partial(self._offer, job))
        except Abandoned:
            result = Result(False, "mltui was closed while it waited; the change goes on")
        except Exception as exc:  # shown as the failure it is, with its reason
            result = Result(False, safe_text(f"{plan.verb} {plan.target} failed: {exc}"))
        finally:
            engine.close()
        problem = ""
        if result.started:
            problem = append(
                plan.engine, plan.target, plan.commands, "ok" if result.ok else result.message
            )
        if not worker.is_cancelled:
            call(self._finished, job, result, problem)

    def _finished(self, job: ActionRun, result: Result, problem: str) -> None:
        job.drain()  # the last lines before the result
        job.finish(result, problem)
        if self.action_runs.get(job.plan.target) is job:
            del self.action_runs[job.plan.target]
        shown = isinstance(self.app.screen, ActionScreen) and self.app.screen.job is job
        if not shown:  # the user went back meanwhile: the result as a notification
            self.notify(
                safe_text(result.message),
                title="done" if result.ok else "failed",
                severity="information" if result.ok else "error",
                timeout=12,
            )

    # -- shell ----------------------------------------------------------------------------
    def _shell_argv(self, label: str, slot: int | None) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        target = app_state(self.app).engine.target

        def work() -> None:
            from ..deploy.shell import shell_argv

            try:
                argv = shell_argv(snapshot, label, slot, target)
            except ActionError as exc:
                self.app.call_from_thread(
                    self.notify, safe_text(str(exc)), severity="error", timeout=10
                )
                return
            except Exception as exc:
                self.app.call_from_thread(
                    self.notify, f"shell: {safe_text(str(exc))}", severity="error", timeout=10
                )
                return
            self.app.call_from_thread(self._open_shell, argv, label)

        self.run_worker(work, thread=True, group="action-plan", exit_on_error=False)

    def _open_shell(self, argv: tuple[str, ...], label: str = "") -> None:
        """The shell in this terminal, the TUI suspended until it exits (a line in
        the action log); in a browser (or wherever suspending is impossible) its
        command line copied."""
        from ..deploy.actionlog import append
        from ..deploy.shell import run_interactive, shell_line

        line = shell_line(argv)
        if not self.app.is_web:
            try:
                with self.app.suspend():
                    code = run_interactive(argv)
            except SuspendNotSupported:
                pass
            else:
                engine = safe_text(app_state(self.app).engine.target.display, 200)
                problem = append(engine, label, line, f"shell ended ({code})")
                if problem:
                    self.notify(problem, severity="warning")
                if code not in (0, 130):
                    self.notify(f"the shell ended with exit status {code}", severity="warning")
                return
        self.app.copy_to_clipboard(line)
        self.notify(
            f"copied: {safe_text(line)} (paste it into a terminal on this machine)",
            title="shell",
            timeout=15,
        )
