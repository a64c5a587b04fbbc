"""Predict benchmark: request encoding, the client path per image, end to end.

Baselines are the article's hand-written client, run in the same process:
`json.dumps({"instances": image.tolist()})` for the body, Pillow load + resize +
`/ 255` + that body for the client path, and one `requests.post` after another
for the end-to-end run. mltui: `mltui.core.predict` (orjson from numpy, one
keep-alive session, concurrent requests).

1. encoding a 1x224x224x3 float image (target: at least 15x faster);
2. the whole client path per image, read + decode + resize + encode, on 640x480
   JPEGs made from the demo's test images (target: at least 8x);
3. images/s against the demo stack's 4 replicas, deployed here with
   `mltui demo up --detach` on a free port (target: at least 3x).

Run: `python bench/predict.py [--images 200]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, demo_stack, print_table

sys.path.insert(0, str(REPO / "src"))

import numpy as np
import requests
from PIL import Image

from mltui.core import predict as core
from mltui.deploy.stacks import DEMO_DIR

TEST_IMAGES = DEMO_DIR / "test-images"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def article_load(path: Path) -> np.ndarray:
    """The article's preprocessing, with Pillow standing in for keras' load_img."""
    img = Image.open(path).convert("RGB").resize((224, 224))
    return np.array(img) / 255.0


def article_body(image: np.ndarray) -> bytes:
    return json.dumps({"signature_name": "serving_default", "instances": [image.tolist()]}).encode()


def jpegs(folder: Path, count: int) -> list[Path]:
    """640x480 JPEGs of the test images, in <class>/ folders."""
    out = []
    sources = sorted(TEST_IMAGES.glob("*/*.png"))
    for i in range(count):
        src = sources[i * len(sources) // count]
        dest = folder / src.parent.name / (src.stem + ".jpg")
        dest.parent.mkdir(parents=True, exist_ok=True)
        Image.open(src).convert("RGB").resize((640, 480)).save(dest, quality=90)
        out.append(dest)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    rows = []
    endpoint = core.ServedModel(
        "http://127.0.0.1:0", "my_model", "tfserving", signature=core.Signature("input_1")
    )

    # 1. encoding: a photo-like 224x224 RGB image (noise: every pixel differs), as
    # floats in 0..1; mltui writes the pixels through a table, the article writes
    # the float array with json.dumps
    pixels = np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    image = pixels / 255.0
    assert np.allclose(
        np.array(json.loads(core.encode(endpoint, [pixels]))["instances"][0]), image, atol=1e-7
    )
    ours = best(lambda: core.encode(endpoint, [pixels]), 30)
    orj = best(lambda: core.encode(endpoint, [pixels.astype(np.float32) / 255]), 20)
    theirs = best(lambda: article_body(image), 5)
    rows.append(
        (
            "encode a 1x224x224x3 image as floats in 0..1",
            f"{ours * 1000:.1f} ms",
            f"`json.dumps(image.tolist())` {theirs * 1000:.1f} ms ({theirs / ours:.1f}x); "
            f"orjson from a float32 array {orj * 1000:.1f} ms",
        )
    )

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "imgs"
        paths = jpegs(folder, args.images)

        # 2. client path per image
        sample = paths[:20]
        ours = best(lambda: [core.encode(endpoint, [core.load_image(p, endpoint.signature)]) for p in sample], 3) / len(sample)  # fmt: skip
        theirs = best(lambda: [article_body(article_load(p)) for p in sample], 2) / len(sample)
        rows.append(
            (
                "client path per image: read, decode 640x480 JPEG, resize, encode",
                f"{ours * 1000:.1f} ms",
                f"the article's {theirs * 1000:.1f} ms ({theirs / ours:.1f}x)",
            )
        )

        # 3. end to end against the demo's 4 replicas
        with demo_stack("mltuibenchpredict") as url:
            live = core.detect(url, "my_model")
            core.run(live, folder, options=core.RunOptions(concurrency=args.concurrency))  # warm
            start = time.perf_counter()
            results = core.run(live, folder, options=core.RunOptions(concurrency=args.concurrency))
            ours = time.perf_counter() - start
            assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
            session = requests.Session()
            start = time.perf_counter()
            for p in paths:
                answer = session.post(f"{url}/v1/models/my_model:predict", data=article_body(article_load(p)), timeout=60)  # fmt: skip
                answer.json()
            theirs = time.perf_counter() - start
            n = len(paths)
            rows.append(
                (
                    f"end to end, {n} images, demo stack (4 replicas, nginx)",
                    f"{n / ours:.1f} images/s (concurrency {args.concurrency})",
                    f"the article's sequential client {n / theirs:.1f} images/s ({theirs / ours:.1f}x)",
                )
            )

    print_table(rows)


if __name__ == "__main__":
    main()
