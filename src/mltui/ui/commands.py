"""Command palette entries: go to any service by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..core.textsafe import safe_text


class ServiceCommands(Provider):
    """'Go to service STACK/NAME' for every service in the latest snapshot."""

    def _targets(self) -> list[tuple[str, str]]:
        app = self.app
        snapshot = getattr(app, "snapshot", None)
        if snapshot is None:
            return []
        out = []
        for stack in snapshot.stacks:
            prefix = safe_text(stack.title, 60)
            for svc in stack.services:
                out.append((f"Go to service {prefix}/{safe_text(svc.name, 60)}", svc.key))
        return out

    def _go(self, key: str) -> None:
        services = getattr(self.app, "services", None)
        if services is None:
            return
        services.goto_service(key)

    async def discover(self) -> Hits:
        for text, key in self._targets():
            yield DiscoveryHit(text, partial(self._go, key), help="Move the cursor to this service")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, key in self._targets():
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(self._go, key),
                    text=text,
                    help="Move the cursor to this service",
                )
