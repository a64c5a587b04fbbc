"""The confirmation every change asks first: the target, the engine, the
equivalent docker command line(s), the details (rollback's diff, down's
volumes), and Yes/No. Nothing runs without Yes; Escape and Enter on No say no.
The screen answers with ``(yes, volumes)``: volumes is the second, explicit
choice of a down with volumes (a checkbox, off by default)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from ..core.textsafe import safe_text
from ..deploy.actions import Plan


class ConfirmScreen(ModalScreen[tuple[bool, bool]]):
    """Asks before a :class:`Plan` runs."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 80%; max-width: 100; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmScreen .confirm-label { color: $text-muted; }
    ConfirmScreen #confirm-commands { background: $boost; padding: 0 1; margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align: center middle; margin-top: 1; }
    ConfirmScreen Button { margin: 0 2; }
    """
    BINDINGS = [Binding("escape", "no", "No", id="confirm.no")]

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical():
            title = Text(f"{plan.verb.capitalize()} ", style="bold")
            title.append(safe_text(plan.target), style="bold yellow")
            yield Static(title, id="confirm-title")
            yield Static(
                Text.assemble(
                    ("engine  ", "dim"), safe_text(plan.engine), ("\nkind    ", "dim"), plan.kind
                ),
                id="confirm-engine",
            )
            yield Static("equivalent docker command line(s)", classes="confirm-label")
            yield Static(
                Text("\n".join(safe_text(c.shown) for c in plan.calls)), id="confirm-commands"
            )
            if plan.details:
                yield Static(
                    Text("\n".join(safe_text(d) for d in plan.details)), id="confirm-details"
                )
            if plan.volumes:
                yield Checkbox(
                    safe_text(f"also remove volumes: {', '.join(plan.volumes)}"),
                    False,
                    id="confirm-volumes",
                )
            with Horizontal():
                yield Button("Yes", variant="warning", id="confirm-yes")
                yield Button("No", variant="primary", id="confirm-no")

    def on_mount(self) -> None:
        # the safe answer has the focus: Enter on it says no
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm-yes":
            volumes = bool(self.plan.volumes) and self.query_one("#confirm-volumes", Checkbox).value
            self.dismiss((True, volumes))
        else:
            self.dismiss((False, False))

    def action_no(self) -> None:
        self.dismiss((False, False))
