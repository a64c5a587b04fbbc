"""The confirmation every change goes through: what will be done (the question),
the target, the engine, and the docker command line(s) that do it. Nothing runs
without Yes; Escape, No and n change nothing.

A rollback also shows what changes (image, replicas, environment); a Compose
``down`` offers, unticked, a box to delete the project's volumes too, which
is then asked about once more (:attr:`Plan.second_question`)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from ..core.textsafe import safe_text
from ..deploy.actions import Plan

ENGINES = {"swarm": "swarm", "compose": "Compose"}
TITLES = {
    "scale": "Scale",
    "restart": "Restart",
    "down": "Remove",
    "up": "Deploy",
    "rollback": "Roll back",
    "stop": "Stop",
    "start": "Start",
}


@dataclass(frozen=True)
class Answer:
    """Yes (or not), and for a Compose down whether its volumes should go too."""

    yes: bool
    volumes: bool = False


def plan_text(plan: Plan, second: bool = False) -> Text:
    """The dialog's body: the question, target, engine, what changes, the commands."""
    text = Text()
    question = plan.second_question if second and plan.second_question else _question(plan)
    text.append(question + "\n\n", style="bold")
    rows = [
        ("target", plan.target),
        ("engine", f"{plan.engine} ({ENGINES.get(plan.kind, plan.kind)})"),
    ]
    if plan.file:
        rows.append(("file", plan.file))
    for label, value in rows:
        text.append(f"{label:<8}", style="dim")
        text.append(safe_text(value) + "\n")
    if plan.details:
        text.append("\n")
        heading = "what changes" if plan.verb == "rollback" else "also"
        text.append(heading + "\n", style="dim")
        for line in plan.details:
            text.append(f"  {safe_text(line)}\n", style="yellow" if plan.verb == "rollback" else "")
    text.append(
        "\nthe equivalent docker command" + ("s" if len(plan.calls) > 1 else "") + "\n", "dim"
    )
    for call in plan.calls:
        text.append(f"  $ {safe_text(call.shown)}\n", style="cyan")
    return text


def _question(plan: Plan) -> str:
    """The plan's question without what the dialog shows below it: the details
    (what changes) and "The equivalent: ..." (the commands)."""
    head, _sep, _rest = plan.question.partition(" The equivalent: ")
    more = (" " + "; ".join(safe_text(d) for d in plan.details) + ".") if plan.details else ""
    if more and head.endswith(more):
        head = head[: -len(more)]
    return head


class ConfirmScreen(ModalScreen[Answer]):
    """Yes or No to one plan. ``second``: the plan's second question (the volumes)."""

    BINDINGS = [
        Binding("escape,n", "no", "No", tooltip="Change nothing and close", id="confirm.no"),
        Binding("y", "yes", "Yes", tooltip="Do what the dialog says", id="confirm.yes"),
    ]

    def __init__(self, plan: Plan, second: bool = False) -> None:
        super().__init__()
        self.plan = plan
        self.second = second
        # a Compose project's volumes: a box of its own, unticked
        self.offer_volumes = plan.verb == "down" and plan.kind == "compose" and not second

    def compose(self) -> ComposeResult:
        plan = self.plan
        title = TITLES.get(plan.verb, plan.verb.title())
        if self.second:
            title = "Delete volumes"
        with Vertical(id="confirm-box", classes="-danger" if plan.verb == "down" else ""):
            yield Static(
                Text(f"{title} {safe_text(plan.target)}", style="bold"), id="confirm-title"
            )
            with VerticalScroll(id="confirm-body"):
                yield Static(plan_text(plan, self.second), id="confirm-text")
            if self.offer_volumes:
                yield Checkbox(
                    "Also delete its named volumes (their data is lost for good; asked again)",
                    value=False,
                    id="confirm-volumes",
                )
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    "Yes", id="confirm-yes", variant="error" if plan.verb == "down" else "primary"
                )
                yield Button("No", id="confirm-no")

    def on_mount(self) -> None:
        # No has the focus, so an Enter typed one time too many (after the scale or
        # up prompt) changes nothing; y, or Shift+Tab then Enter, says Yes; Escape is No
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def _yes_pressed(self) -> None:
        self.action_yes()

    @on(Button.Pressed, "#confirm-no")
    def _no_pressed(self) -> None:
        self.action_no()

    def action_yes(self) -> None:
        volumes = self.offer_volumes and self.query_one("#confirm-volumes", Checkbox).value
        self.dismiss(Answer(True, volumes))

    def action_no(self) -> None:
        self.dismiss(Answer(False))
