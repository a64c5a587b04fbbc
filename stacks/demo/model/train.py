"""Train the demo's digit classifier when the image is built (Debian python3-sklearn).

The data is scikit-learn's bundled handwritten digits (8x8, values 0..16): no
download. A quarter is held out, never trained on; `--export-test-images`
writes that quarter as 224x224 RGB PNGs in <class>/ folders, which is how
stacks/demo/test-images was made. The model is saved as plain numpy weights
(a multinomial logistic regression), so the server needs numpy alone.

`--variant` picks how: `stable` (all 1347 training digits, C=0.5) or `canary`
(400 of them drawn with a fixed seed, C=0.001): two deterministic models that
disagree on a few held-out digits, served as two versions of one model.
`poor` (40 digits, C=0.0005, about 0.6 held-out accuracy) is a worse model for
trying `mltui roll`: asked for with `--variant poor`, or with the environment
variable MLTUI_DEMO_QUALITY=poor (a build argument), which overrides `--variant`.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

CLASSES = [str(d) for d in range(10)]
SEED = 20261126
# (training digits, C)
VARIANTS = {"stable": (None, 0.5), "canary": (400, 0.001), "poor": (40, 0.0005)}


def split():
    digits = load_digits()
    return train_test_split(
        digits.images, digits.target, test_size=0.25, random_state=SEED, stratify=digits.target
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", help="folder for weights.npz and classes.json")
    parser.add_argument("--export-test-images", metavar="DIR")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="stable")
    args = parser.parse_args()
    if os.environ.get("MLTUI_DEMO_QUALITY", "").strip().lower() == "poor":
        args.variant = "poor"
    x_train, x_test, y_train, y_test = split()
    count, c = VARIANTS[args.variant]
    if count is not None:
        pick = np.random.RandomState(7).permutation(len(x_train))[:count]
        x_train, y_train = x_train[pick], y_train[pick]
    model = LogisticRegression(max_iter=5000, C=c)
    model.fit(x_train.reshape(len(x_train), -1), y_train)
    accuracy = model.score(x_test.reshape(len(x_test), -1), y_test)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(
        out / "weights.npz",
        coef=model.coef_.astype(np.float32),
        intercept=model.intercept_.astype(np.float32),
    )
    (out / "classes.json").write_text(json.dumps(CLASSES))
    print(f"{args.variant}: trained on {len(x_train)} digits, held-out accuracy {accuracy:.3f}")
    if args.export_test_images:
        from PIL import Image

        root = Path(args.export_test_images)
        for i, (img, label) in enumerate(zip(x_test, y_test, strict=True)):
            # 8x8 in 0..16 -> 224x224 RGB, white digit on black as in the data set
            big = np.kron(img / 16.0, np.ones((28, 28)))
            rgb = (np.stack([big] * 3, axis=-1) * 255).round().astype(np.uint8)
            folder = root / CLASSES[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rgb, "RGB").save(folder / f"digit-{i:04d}.png", optimize=True)
        (root / "classes.txt").write_text("\n".join(CLASSES) + "\n")
        print(f"exported {len(x_test)} held-out images to {root}")


if __name__ == "__main__":
    main()
