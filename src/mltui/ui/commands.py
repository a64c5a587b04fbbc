"""Command palette entries: go to any service by name, open its logs."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..core.textsafe import safe_text


class ServiceCommands(Provider):
    """'Go to service STACK/NAME' for every service in the latest snapshot."""

    def _targets(self) -> list[tuple[str, str, str]]:
        app = self.app
        snapshot = getattr(app, "snapshot", None)
        if snapshot is None:
            return []
        out = []
        for stack in snapshot.stacks:
            prefix = safe_text(stack.title, 60)
            for svc in stack.services:
                name = f"{prefix}/{safe_text(svc.name, 60)}"
                out.append((f"Go to service {name}", "goto", svc.key))
                out.append((f"Logs of {name}", "logs", svc.key))
        return out

    def _run(self, what: str, key: str) -> None:
        app = self.app
        if what == "goto":
            services = getattr(app, "services", None)
            if services is not None:
                services.goto_service(key)
            return
        snapshot = getattr(app, "snapshot", None)
        svc = snapshot.service(key) if snapshot is not None else None
        if svc is not None:
            app.open_logs(svc)  # type: ignore[attr-defined]

    @staticmethod
    def _help(what: str) -> str:
        if what == "goto":
            return "Move the cursor to this service"
        return "Follow the logs of every replica, merged in time order"

    async def discover(self) -> Hits:
        for text, what, key in self._targets():
            yield DiscoveryHit(text, partial(self._run, what, key), help=self._help(what))

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
                    help=self._help(what),
                )
