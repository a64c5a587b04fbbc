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
    assert wheel.name.startswith(f"mltui-{_pyproject_version()}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "mltui/cli/__init__.py",
        "mltui/cli/__main__.py",
        "mltui/core/predict/__init__.py",
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


def _pyproject_version() -> str:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def test_the_version_is_written_once_and_read_from_the_package_metadata():
    """pyproject.toml holds the version; the package reads it from its installed
    metadata, so `mltui --version` cannot drift from what was released."""
    import mltui

    version = _pyproject_version()
    assert mltui.__version__ == version
    assert version not in (REPO / "src/mltui/__init__.py").read_text()
    out = subprocess.run(
        [sys.executable, "-m", "mltui", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout == f"mltui {version}\n"
