"""The keys that change a stack, on the services screen's row under the cursor.

They stay out of the footer (at 80 columns it has room for the keys it shows,
Help and Quit included, and no more); ``?`` lists them under "Actions", and
the palette (ctrl+p) offers each by name.

Each asks first (ui/confirm.py) and shows its progress (ui/actions.py). In
read-only mode (``--read-only``, ``read_only = true``) they are hidden from the
footer, the help and the palette, and refused with a message.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

ACTION_BINDINGS: list[BindingType] = [
    Binding(
        "s",
        "act_scale",
        "Scale",
        show=False,
        tooltip="Scale the service under the cursor to N replicas (asks for N, then to confirm)",
        id="services.scale",
    ),
    Binding(
        "e",
        "act_restart",
        "Restart",
        show=False,
        tooltip="Restart the service under the cursor replica by replica; on a replica row, "
        "that replica alone (asks first)",
        id="services.restart",
    ),
    Binding(
        "x",
        "act_stop",
        "Stop",
        show=False,
        tooltip="Stop the Compose service under the cursor, or its whole project on a stack row "
        "(asks first)",
        id="services.stop",
    ),
    Binding(
        "X",
        "act_start",
        "Start",
        show=False,
        tooltip="Start the stopped Compose service under the cursor, or its whole project on a "
        "stack row (asks first)",
        id="services.start",
    ),
    Binding(
        "D",
        "act_down",
        "Down",
        show=False,
        tooltip="Remove the stack or Compose project under the cursor (asks first; its volumes "
        "only with a second, explicit choice)",
        id="services.down",
    ),
    Binding(
        "b",
        "act_rollback",
        "Roll back",
        show=False,
        tooltip="Roll the swarm service under the cursor back to its previous spec (shows what "
        "changes, asks first)",
        id="services.rollback",
    ),
    Binding(
        "u",
        "act_up",
        "Up",
        show=False,
        tooltip="Deploy a compose file (building what has build:) as a swarm stack or a Compose "
        "project (asks for the file, then to confirm)",
        id="services.up",
    ),
    Binding(
        "E",
        "act_shell",
        "Shell",
        show=False,
        tooltip="A shell (bash, else sh) in the replica under the cursor, the TUI suspended until "
        "it exits; in a browser, its docker exec command is copied instead",
        id="services.shell",
    ),
]

# the actions read-only mode hides and refuses (the roll screen's key changes a stack too)
ACTIONS = frozenset(b.action for b in ACTION_BINDINGS if isinstance(b, Binding)) | {"roll"}
ACTION_IDS = frozenset(b.id for b in ACTION_BINDINGS if isinstance(b, Binding) and b.id) | {
    "services.roll",
    "roll.start",
    "roll.undo",
}
