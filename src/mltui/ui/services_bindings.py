"""The keys of the services screen (ServicesScreen.BINDINGS), each with an id
for the keymap and a tooltip for the help screen."""

from __future__ import annotations

from textual.binding import Binding, BindingType

SERVICES_BINDINGS: list[BindingType] = [
    Binding(
        "enter",
        "toggle_row",
        "Fold/unfold",
        tooltip="Fold or unfold the stack or service under the cursor (or click it)",
        id="services.toggle",
    ),
    Binding(
        "r",
        "refresh",
        "Refresh",
        show=False,
        tooltip="Read the inventory again now; it also updates by itself on engine events",
        id="services.refresh",
    ),
    Binding(
        "minus",
        "collapse_all",
        "Fold all",
        show=False,
        tooltip="Fold every service to one row",
        id="services.collapse_all",
    ),
    Binding(
        "plus,equals_sign",
        "expand_all",
        "Unfold all",
        show=False,
        tooltip="Unfold every stack and service",
        id="services.expand_all",
    ),
    Binding(
        "g",
        "goto",
        "Go to service",
        show=False,
        tooltip="Go to a service by name, through the command palette",
        id="services.goto",
    ),
    Binding(
        "l",
        "logs",
        "Logs",
        tooltip="Logs of the service under the cursor, every replica merged in time order; on a replica row, of that replica",
        id="services.logs",
    ),
    Binding(
        "j",
        "jupyter",
        "Notebooks",
        tooltip="Jupyter URLs with token: of the notebook under the cursor, else of every notebook",
        id="services.jupyter",
    ),
    Binding(
        "p",
        "predict",
        "Predict",
        tooltip="Send a folder of test images to the model server under the cursor",
        id="services.predict",
    ),
    Binding(
        "R",
        "roll",
        "Roll out",
        show=False,
        tooltip="Roll the model server under the cursor onto a new build of its image (or a "
        "tag you name), smoke-test it against its last predict run, and keep it or roll it back "
        "(asks which image, then to confirm)",
        id="services.roll",
    ),
    Binding(
        "G",
        "gpu",
        "GPU",
        tooltip="GPUs on the host (NVML), the engine's runtimes and a verdict per service",
        id="services.gpu",
    ),
    Binding(
        "o",
        "sort",
        "Sort",
        tooltip="Sort stacks, services and replicas by name, by CPU or by memory (largest "
        "first); each press takes the next",
        id="services.sort",
    ),
    Binding(
        "t",
        "toggle_stats",
        "Stats",
        tooltip="Turn the CPU and memory columns (and their reads) off or on; "
        "`stats = false` in the config starts with them off",
        id="services.stats",
    ),
]
