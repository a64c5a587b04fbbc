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
import sys
import time

from _common import REPO, demo_stack, print_table

sys.path.insert(0, str(REPO / "src"))

from mltui.core import predict as core
from mltui.core.predict.compare import compare
from mltui.deploy.stacks import DEMO_DIR

TEST_IMAGES = DEMO_DIR / "test-images"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2, help="best of N for each")
    args = parser.parse_args()
    options = core.RunOptions(concurrency=args.concurrency)
    classes = core.load_classes(TEST_IMAGES / "classes.txt")
    with demo_stack("h15modelbenchcompare") as url:
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
        print_table(
            [
                (
                    f"`predict --compare stable canary`, {n} images, demo stack "
                    "(4 replicas, nginx)",
                    f"{min(both):.1f} s ({ratio:.2f}x one run; target at most 2.2x)",
                    f"one `predict` run of the same images {min(single):.1f} s",
                )
            ]
        )
        print(
            f"\nagreement {cmp.agreement:.3f}, {len(cmp.disagreements)} disagreements, "
            f"McNemar p = {cmp.p_value:.3g}"
        )


if __name__ == "__main__":
    main()
