"""Compare benchmark: `--compare` of two versions against one `predict` run.

Both against the demo stack (4 model replicas behind nginx), deployed here with
`mltui demo up --detach` on a free port, on the demo's 450 held-out digits. The
baseline is one predict run of the same folder (the latest version), measured in
the same run; the comparison sends every image to the `stable` and the `canary`
label at once. Target: the comparison costs at most 2.2x the single run (it does
twice the work, so about 2x is the floor when the replicas are the bottleneck).

Run: `python bench/compare.py [--concurrency 8] [--repeat 2]`.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from mltui.core import predict as core  # noqa: E402
from mltui.core.predict.compare import compare  # noqa: E402
from mltui.deploy.stacks import DEMO_DIR  # noqa: E402

TEST_IMAGES = DEMO_DIR / "test-images"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mltui(*args: str) -> subprocess.CompletedProcess[str]:
    """This checkout's mltui (its demo image recipe), whatever is installed."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-m", "mltui.cli", *args], capture_output=True, text=True, check=False,
        env=env,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2, help="best of N for each")
    args = parser.parse_args()
    options = core.RunOptions(concurrency=args.concurrency)
    classes = core.load_classes(TEST_IMAGES / "classes.txt")
    name, port = "h15modelbenchcompare", free_port()
    up = mltui("demo", "up", "--detach", "--name", name, "--port", str(port),
               "--notebook-port", str(free_port()))  # fmt: skip
    if up.returncode != 0:
        raise SystemExit(f"demo up failed:\n{up.stderr}")
    try:
        url = f"http://127.0.0.1:{port}"
        latest = core.detect(url, "my_model")
        stable = core.detect(url, "my_model", label="stable")
        canary = core.detect(url, "my_model", label="canary")
        core.run(latest, TEST_IMAGES, classes, options)  # warm every replica
        single, both = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            results = core.run(latest, TEST_IMAGES, classes, options)
            single.append(time.perf_counter() - start)
            assert all(r.ok for r in results if r.error_kind != core.SKIPPED)
            start = time.perf_counter()
            cmp = compare(stable, canary, TEST_IMAGES, classes, options)
            both.append(time.perf_counter() - start)
            assert cmp.a.summary.failed == cmp.b.summary.failed == 0
        n = cmp.a.summary.images
        ratio = min(both) / min(single)
        print()
        print("| measure | mltui | baseline, same run |")
        print("| --- | --- | --- |")
        print(
            f"| `predict --compare stable canary`, {n} images, demo stack (4 replicas, nginx) "
            f"| {min(both):.1f} s ({ratio:.2f}x one run; target at most 2.2x) "
            f"| one `predict` run of the same images {min(single):.1f} s |"
        )
        print(
            f"\nagreement {cmp.agreement:.3f}, {len(cmp.disagreements)} disagreements, "
            f"McNemar p = {cmp.p_value:.3g}"
        )
    finally:
        mltui("demo", "down", "--name", name)


if __name__ == "__main__":
    main()
