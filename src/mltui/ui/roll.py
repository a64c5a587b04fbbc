"""The roll screen: one `mltui roll` on one screen — its steps as they happen,
each replica's state, the comparison with the last run, the gates and the
verdict — and one confirmed key to roll the new version back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from ..core.textsafe import safe_text
from ..deploy.roll import RollOutcome
from .subscreen import SubScreen, back_binding

Report = Callable[[str], None]
MAX_STEPS = 200  # lines kept on screen (a build says a lot)


class RollScreen(SubScreen):
    BINDINGS = [
        back_binding("roll"),
        Binding(
            "y",
            "start",
            "Start",
            tooltip="Start the roll this screen asks about: build, roll out, smoke-test, verdict",
            id="roll.start",
        ),
        Binding(
            "ctrl+b",
            "undo",
            "Roll back",
            tooltip="Roll the new version back (asks first; ctrl+b again confirms)",
            id="roll.undo",
        ),
    ]

    def __init__(
        self,
        service: str,
        runner: Callable[[Report], RollOutcome] | None = None,
        outcome: RollOutcome | None = None,
        steps: list[str] | None = None,
        *,
        confirm: bool = False,
        close: Callable[[], None] | None = None,
        replicas: str = "",
        image: str = "",
    ) -> None:
        super().__init__()
        self.service = service
        self.image = image  # the tag to roll out; "" builds from the compose file
        self.runner = runner
        self.outcome = outcome
        self.steps: list[str] = list(steps or [])
        self.replicas = replicas
        self.close = close
        # confirm: nothing runs until the user presses y
        self.waiting = confirm and outcome is None and runner is not None
        self.running = not self.waiting and outcome is None and runner is not None
        self.asking = False
        self.undone = ""

    def compose(self) -> ComposeResult:
        yield Static(id="roll-bar")
        with VerticalScroll(id="roll-body"):
            yield Static(id="roll-steps")
            yield Static(id="roll-replicas")
            yield Static(id="roll-compare")
            yield Static(id="roll-verdict")
        yield Footer()

    def on_mount(self) -> None:
        for line in list(self.steps):
            self._note(line)
        self._show()
        if self.running:
            self._run()

    def on_unmount(self) -> None:
        if self.close is not None and not self.running:
            self.close()

    def action_start(self) -> None:
        if not self.waiting:
            return
        self.waiting = False
        self.running = True
        self._show()
        self._run()

    @work(thread=True, exclusive=True, exit_on_error=False, group="roll", description="roll")
    def _run(self) -> None:
        assert self.runner is not None
        outcome = self.runner(lambda text: self.app.call_from_thread(self._line, text))
        self.app.call_from_thread(self._done, outcome)

    def _note(self, text: str) -> None:
        if text.startswith("replicas: "):
            self.replicas = text.removeprefix("replicas: ")
            return
        if self.steps and self.steps[-1] == text:
            return
        if text not in self.steps:
            self.steps.append(text)
        del self.steps[:-MAX_STEPS]

    def _line(self, text: str) -> None:
        self._note(text)
        self._show()

    def _done(self, outcome: RollOutcome) -> None:
        self.running = False
        self.outcome = outcome
        self._show()

    # -- the way back -----------------------------------------------------------------
    def action_undo(self) -> None:
        undo = self.outcome.undo if self.outcome is not None else None
        if self.running or undo is None or self.undone:
            self.notify("nothing to roll back", severity="warning")
            return
        if not self.asking:
            self.asking = True
            self._show()
            return
        self.asking = False
        self.undone = "rolling back"
        self._show()
        self._undo(undo)

    @work(thread=True, exclusive=True, exit_on_error=False, group="roll", description="roll back")
    def _undo(self, undo: Callable[[Report], RollOutcome]) -> None:
        outcome = undo(lambda text: self.app.call_from_thread(self._line, text))
        self.app.call_from_thread(self._undone, outcome)

    def _undone(self, outcome: RollOutcome) -> None:
        self.undone = outcome.message
        self._show()

    # -- showing ----------------------------------------------------------------------
    def _show(self) -> None:
        bar = Text(" ROLL ", style="bold reverse")
        bar.append(f" {safe_text(self.service, 80)} ")
        out = self.outcome
        if self.waiting:
            how = (
                f"Roll out {safe_text(self.image, 80)}"
                if self.image
                else "Build its image, roll it out"
            )
            bar.append(f"{how}, smoke-test it and roll back if it fails? y to start", style="bold")
        elif self.running:
            bar.append("rolling out…", style="yellow")
        elif out is not None:
            verdict = {0: ("PASS: kept", "bold green"), 1: ("FAIL", "bold red")}.get(
                out.code, ("could not run", "bold red")
            )
            bar.append(f" {verdict[0]} ", style=verdict[1])
            action = str(out.data.get("action", ""))
            if action and out.code == 1:
                bar.append(f"  · {action}")
        if self.asking:
            bar.append("  Roll back to the previous image? ctrl+b again to confirm", "bold")
        self.query_one("#roll-bar", Static).update(bar)
        steps = Text("Steps\n", style="bold")
        for line in self.steps[-40:]:
            steps.append(safe_text(line, 300) + "\n")
        self.query_one("#roll-steps", Static).update(steps)
        reps = Text("Replicas  ", style="bold")
        reps.append(safe_text(self.replicas, 600) or "-")
        self.query_one("#roll-replicas", Static).update(reps)
        self.query_one("#roll-compare", Static).update(self._comparison())
        self.query_one("#roll-verdict", Static).update(self._verdict())

    def _comparison(self) -> Text:
        text = Text("\nComparison with the last run\n", style="bold")
        data: dict[str, Any] = self.outcome.data if self.outcome else {}
        base, new, cmp = data.get("baseline"), data.get("new"), data.get("comparison")
        if not isinstance(base, dict) or not isinstance(new, dict):
            text.append("-\n")
            return text

        def num(v: Any, fmt: str) -> str:
            return "-" if not isinstance(v, int | float) else format(v, fmt)

        text.append(
            f"accuracy {num(base.get('accuracy'), '.3f')} -> {num(new.get('accuracy'), '.3f')}"
            f"   p95 {num(base.get('p95_ms'), '.1f')} ms -> {num(new.get('p95_ms'), '.1f')} ms"
            f"   images {num(new.get('images'), 'd')}, failed {num(new.get('failed'), 'd')}\n"
        )
        if isinstance(cmp, dict):
            changed = [
                c for c in cmp.get("per_class", []) if isinstance(c, dict) and c.get("change")
            ]
            parts = [
                f"{safe_text(str(c.get('class')), 20)} {num(c.get('change'), '+.2f')}"
                for c in changed[:12]
            ]
            text.append("per class: " + (", ".join(parts) if parts else "no change") + "\n")
            differ = cmp.get("disagreements", [])
            count = len(differ) if isinstance(differ, list) else 0
            text.append(f"disagreements: {count}")
            shown = [
                f"{safe_text(str(d.get('image')), 40)} "
                f"{safe_text(str((d.get('a') or {}).get('class')), 12)}->"
                f"{safe_text(str((d.get('b') or {}).get('class')), 12)}"
                for d in (differ if isinstance(differ, list) else [])[:4]
                if isinstance(d, dict)
            ]
            text.append((": " + ", ".join(shown)) if shown else "")
            text.append("\n")
        return text

    def _verdict(self) -> Text:
        text = Text("\nVerdict\n", style="bold")
        out = self.outcome
        if out is None:
            text.append("-" if not self.running else "waiting for the smoke test")
            return text
        for gate in out.data.get("gates", []):
            if not isinstance(gate, dict):
                continue
            ok = bool(gate.get("passed"))
            text.append("pass " if ok else "FAIL ", style="green" if ok else "bold red")
            text.append(safe_text(str(gate.get("message", "")), 300) + "\n")
        text.append(safe_text(out.message, 600))
        if self.undone:
            text.append("\n" + safe_text(self.undone, 600))
        return text


def ask_then_roll(app: Any, service: Any, engine_factory: Callable[[], Any], predict: Any) -> None:
    """Ask which image (a build, or a tag; the one running shown), then open the
    roll screen, which asks before it changes anything. Escape: nothing opens."""
    from .roll_prompt import RollPromptScreen

    def chosen(image: str | None) -> None:
        if image is None:
            return
        runner, close = engine_runner(engine_factory, service.label, predict, image)
        app.push_screen(RollScreen(service.label, runner, confirm=True, close=close, image=image))

    app.push_screen(RollPromptScreen(service.label, service.image), chosen)


def engine_runner(
    engine_factory: Callable[[], Any], service: str, predict: Any, image: str = ""
) -> tuple[Callable[[Report], RollOutcome], Callable[[], None]]:
    """A roll of ``service`` on an engine of its own (closed with the screen), with
    the config's gates and predict defaults: onto ``image``, else a build."""
    from ..core.inventory import Inventory
    from ..core.predict.gates import Gates
    from ..deploy.actionlock import Busy, target_lock
    from ..deploy.roll import RollOptions, roll

    engine = engine_factory()

    def run(report: Report) -> RollOutcome:
        name = safe_text(engine.target.display, 200)  # as deploy names the engine
        gates = Gates(predict.max_accuracy_drop, predict.max_p95_ms, predict.min_accuracy)
        try:
            with target_lock(name, service, f"roll {service}"):
                inventory = Inventory(engine)
                return roll(
                    RollOptions(service, build=not image, image=image, gates=gates),
                    inventory,
                    inventory.snapshot(),
                    engine.target,
                    name,
                    report,
                    predict,
                )
        except Busy as exc:
            return RollOutcome(2, str(exc))
        except Exception as exc:  # the engine went away: one sentence, never a crash
            return RollOutcome(2, f"roll {service}: {type(exc).__name__}: {exc}")

    return run, engine.close
