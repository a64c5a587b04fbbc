"""The GPU screen with NVML faked (two GPUs) and the real engine."""

from __future__ import annotations

import pytest
from conftest import until_service
from nvml_fake import A10, H100, FakeNvml

from mltui.ui.app import MltuiApp
from mltui.ui.gpu import GpuScreen

pytestmark = pytest.mark.engine


async def test_two_gpus_a_verdict_per_service_and_a_look_inside(container_factory, wait_until):
    plain = container_factory("gpu-ui-plain")
    app = MltuiApp(nvml_factory=lambda: FakeNvml([H100, A10]))
    async with app.run_test(size=(160, 45)) as pilot:
        await until_service(pilot, plain)
        await pilot.press("G")
        await wait_until(pilot, lambda: isinstance(app.screen, GpuScreen), what="the screen")
        screen = app.screen
        await wait_until(pilot, lambda: screen.host is not None, what="NVML read")
        host_text = str(screen.query_one("#gpu-host").render())
        assert "NVIDIA H100 80GB HBM3" in host_text and "NVIDIA A10" in host_text
        assert "MIG on" in host_text and "pid 4242" in host_text
        assert "driver 550.54.15 · CUDA 12.4 · 2 GPU(s)" in str(
            screen.query_one("#gpu-bar").render()
        )
        table = screen.query_one("DataTable")
        row = table.get_row_index(next(s.key for s in app.snapshot.services() if s.name == plain))
        assert "host has 2 GPUs, container asked for none" in str(table.get_row_at(row)[2])
        table.move_cursor(row=row)
        await pilot.pause()
        # the detail has the verdict and its fix in full, which the table may cut
        detail = str(screen.query_one("#gpu-detail").render())
        assert "host has 2 GPUs, container asked for none" in detail
        fix = str(table.get_row_at(row)[3])
        assert fix.startswith("add deploy.resources.reservations.devices") and fix in detail
        await pilot.press("c")
        key = table.coordinate_to_cell_key((row, 0)).row_key.value
        await wait_until(pilot, lambda: key in screen.inside, timeout=60, what="the look inside")
        assert "inside: TensorFlow not installed; no nvidia-smi" in str(
            screen.query_one("#gpu-detail").render()
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, GpuScreen)
