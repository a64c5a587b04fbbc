"""Write SVG screenshots of mltui's main screens (services, merged logs), taken by the app itself.

Runs the real app with Pilot against the local engine (whatever is deployed
there: `make demo` first for the demo stack) and saves screenshots/*.svg.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "screenshots"


async def main() -> int:
    from mltui.ui.app import MltuiApp

    OUT.mkdir(exist_ok=True)
    app = MltuiApp()
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(100):
            if app.snapshots_applied:
                break
            await pilot.pause(0.1)
        if not app.snapshots_applied:
            print(f"no inventory: {app.engine_info.message}", file=sys.stderr)
            return 1
        await pilot.pause(0.5)
        # put the cursor on the first service that is not fine, else the first service
        rows = app.services._rows
        target = next(
            (k for k, r in rows.items() if r.level == 1 and r.state not in ("running",)), None
        )
        target = target or next((k for k, r in rows.items() if r.level == 1), None)
        if target:
            app.services.table.move_cursor(row=app.services.table.get_row_index(target))
            await pilot.pause(0.2)
        path = app.save_screenshot(str(OUT / "main.svg"))
        print(path)

        # the merged logs of the service with the most replicas (the demo's model)
        services = sorted(app.snapshot.services(), key=lambda s: -len(s.replicas))
        if services:
            app.open_logs(services[0])
            for _ in range(50):
                await pilot.pause(0.1)
                screen = app.screen
                if len(getattr(screen, "buffer", ())) and not screen.session.loading:
                    break
            await pilot.pause(0.5)
            path = app.save_screenshot(str(OUT / "logs.svg"))
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
