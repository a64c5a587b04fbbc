"""Command palette entries for every service by name: go to it, its logs, its
notebook, a GPU check inside it, predict against it."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message

from ..core.roles import is_model_server, is_notebook
from ..core.textsafe import safe_text
from .requests import GoToService, OpenGpu, OpenLogs, OpenNotebooks, OpenPredict, app_state

HELP = {
    "goto": "Move the cursor to this service",
    "logs": "Follow the logs of every replica, merged in time order",
    "notebook": "The Jupyter URL with token of this notebook, on this machine's port",
    "gpu": "Look inside a running replica: TensorFlow, PyTorch and nvidia-smi",
    "predict": "Send a folder of test images to this model server",
}
VERB = {
    "goto": "Go to service",
    "logs": "Logs of",
    "notebook": "Notebook of",
    "gpu": "GPU check of",
    "predict": "Predict against",
}


class ServiceCommands(Provider):
    """Per service in the latest snapshot: the actions that make sense for it."""

    def _targets(self) -> list[tuple[str, str, str]]:
        snapshot = app_state(self.app).snapshot
        if snapshot is None:
            return []
        out = []
        for stack in snapshot.stacks:
            prefix = safe_text(stack.title, 60)
            for svc in stack.services:
                name = f"{prefix}/{safe_text(svc.name, 60)}"
                whats = ["goto", "logs"]
                if is_notebook(svc):
                    whats.append("notebook")
                if svc.running:
                    whats.append("gpu")
                if is_model_server(svc):
                    whats.append("predict")
                out += [(f"{VERB[what]} {name}", what, svc.key) for what in whats]
        return out

    def _run(self, what: str, key: str) -> None:
        app = self.app
        if what == "goto":
            app.post_message(GoToService(key))
            return
        snapshot = app_state(app).snapshot
        svc = snapshot.service(key) if snapshot is not None else None
        if svc is None:
            app.notify("that service is gone from the inventory", severity="warning")
            return
        request: Message
        if what == "logs":
            request = OpenLogs(svc)
        elif what == "notebook":
            request = OpenNotebooks(svc)
        elif what == "gpu":
            request = OpenGpu(check=svc)
        elif what == "predict":
            request = OpenPredict(svc)
        else:
            return
        app.post_message(request)

    async def discover(self) -> Hits:
        for text, what, key in self._targets():
            yield DiscoveryHit(text, partial(self._run, what, key), help=HELP[what])

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, what, key in self._targets():
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(self._run, what, key),
                    text=text,
                    help=HELP[what],
                )
