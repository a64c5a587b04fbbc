"""Every key of every screen: the `?` help screen, the palette's actions, the README's table."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from .app_bindings import Everywhere
from .requests import app_state

# keys Textual itself gives every app (App.BINDINGS, the palette, Input editing)
PALETTE_KEY = "ctrl+p"


@dataclass(frozen=True)
class Key:
    screen: str
    keys: str  # as the user presses them, "," between alternatives
    description: str
    help: str
    id: str
    action: str


def screens() -> list[tuple[str, type]]:
    """Each place with keys, in the order help lists them."""
    from .action_keys import ActionKeys
    from .actions import ActionScreen
    from .compare import CompareScreen
    from .confirm import ConfirmScreen
    from .gpu import GpuScreen
    from .jupyter import NotebookScreen
    from .load import LoadScreen
    from .logs import LogScreen
    from .model import ModelScreen
    from .predict import PredictScreen
    from .prompts import ScaleScreen, UpScreen
    from .roll import RollScreen
    from .roll_prompt import RollPromptScreen
    from .services import ServicesScreen

    return [
        ("Everywhere", Everywhere),
        ("Services", ServicesScreen),
        ("Actions", ActionKeys),
        ("Confirm", ConfirmScreen),
        ("Scale", ScaleScreen),
        ("Up", UpScreen),
        ("Action", ActionScreen),
        ("Logs", LogScreen),
        ("Notebooks", NotebookScreen),
        ("Predict", PredictScreen),
        ("Model", ModelScreen),
        ("Compare", CompareScreen),
        ("Roll: which image", RollPromptScreen),
        ("Roll", RollScreen),
        ("GPU", GpuScreen),
        ("Load test", LoadScreen),
    ]


def _bindings(owner: type) -> list[Binding]:
    out: list[Binding] = []
    for item in owner.__dict__.get("BINDINGS", []):
        if isinstance(item, Binding):
            out.append(item)
    return out


def display_key(key: str) -> str:
    """'question_mark' -> '?', 'slash' -> '/', 'ctrl+r' as it is, 'enter' as it is."""
    from textual.keys import format_key

    if key in ("enter", "tab", "space"):
        return key
    *mods, last = key.split("+")
    return "+".join([*mods, format_key(last)])


def catalogue(keymap: dict[str, str] | None = None) -> list[Key]:
    """Every binding with an id, its keys after ``keymap`` (the config's [keys])."""
    keymap = keymap or {}
    out: list[Key] = []
    for title, owner in screens():
        for binding in _bindings(owner):
            if not binding.id:
                continue
            keys = keymap.get(binding.id, binding.key)
            shown = ", ".join(display_key(k.strip()) for k in keys.split(","))
            out.append(
                Key(
                    title,
                    shown,
                    binding.description,
                    binding.tooltip or binding.description,
                    binding.id,
                    binding.action,
                )
            )
        if title == "Everywhere":
            out.append(
                Key(
                    title,
                    display_key(PALETTE_KEY),
                    "Commands",
                    "The command palette: every action, every service by name, themes",
                    "",
                    "command_palette",
                )
            )
    return out


# what read-only mode hides from the help: the keys that change a stack, and the
# screens only they open
ACTION_SCREENS = frozenset({"Actions", "Confirm", "Scale", "Up", "Action", "Roll"})


def without_actions(keys: list[Key]) -> list[Key]:
    from .action_bindings import ACTION_IDS

    return [k for k in keys if k.id not in ACTION_IDS and k.screen not in ACTION_SCREENS]


def binding_ids() -> set[str]:
    return {key.id for key in catalogue() if key.id}


def markdown_table(keymap: dict[str, str] | None = None) -> str:
    """The README's key reference."""
    lines = []
    current = None
    for key in catalogue(keymap):
        if key.screen != current:
            current = key.screen
            lines += ["", f"**{current}**", "", "| Key | Action | Id |", "| --- | --- | --- |"]
        keys = " ".join(f"`{k.strip()}`" for k in key.keys.split(", "))
        ident = f"`{key.id}`" if key.id else ""
        lines.append(f"| {keys} | {key.help} | {ident} |")
    return "\n".join(lines).strip() + "\n"


class HelpScreen(ModalScreen[None]):
    """Every key, screen by screen; the screen it was opened from comes first."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, current: str = "Services", keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.current = current
        self.keymap = keymap or {}

    def compose(self) -> ComposeResult:
        keys = catalogue(self.keymap)
        if app_state(self.app).config.read_only:
            keys = without_actions(keys)
        places = screens()
        where = dict(places).get(self.current)
        # the keys this screen inherits (the services screen's actions) right after its own
        inherited = [
            t
            for t, cls in places
            if where is not None and cls is not where and issubclass(where, cls)
        ]
        first = [self.current, *inherited]
        order = first + [t for t, _ in places if t not in first]
        with VerticalScroll(id="help-body"):
            yield Static(
                Text.assemble(
                    ("mltui keys", "bold"),
                    "   ",
                    ("change any of them under [keys] in ", "dim"),
                    ("mltui config --path", "dim italic"),
                    (", by the id in the last column", "dim"),
                ),
                id="help-title",
            )
            for title in order:
                rows = [k for k in keys if k.screen == title]
                if not rows:
                    continue
                table = Table(
                    box=None,
                    show_header=False,
                    expand=True,
                    pad_edge=False,
                    padding=(0, 1),
                )
                table.add_column("key", style="bold", no_wrap=True, width=14)
                table.add_column("action", ratio=1)
                table.add_column("id", style="dim", no_wrap=True, width=22)
                for k in rows:
                    table.add_row(k.keys, k.help, k.id)
                here = " (this screen)" if title == self.current else ""
                yield Static(
                    Text(title + here, style="bold underline"),
                    classes="help-section" + (" -current" if here else ""),
                )
                yield Static(table, classes="help-table")
        yield Footer()
