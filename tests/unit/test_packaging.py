"""The wheel carries the ready stacks, so `mltui demo up` works without the repository."""

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_holds_the_demo_stack(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("mltui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "mltui/cli.py",
        "mltui/ui/mltui.tcss",
        "mltui/stacks/demo/compose.yml",
        "mltui/stacks/demo/stack.yml",
        "mltui/stacks/demo/model/server.py",
        "mltui/stacks/demo/model/train.py",
        "mltui/stacks/demo/lb/nginx.conf",
        "mltui/stacks/demo/test-images/classes.txt",
    ):
        assert needed in names, needed
    assert (
        sum(
            1
            for n in names
            if n.startswith("mltui/stacks/demo/test-images/") and n.endswith(".png")
        )
        == 450
    )
