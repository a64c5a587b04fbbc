"""Test images: find them in a folder, read and resize them as a signature wants,
class names, and the true class from the folder an image sits in."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from .protocols import PredictError, Signature

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"}
MAX_PIXELS = 64_000_000  # a bigger image is refused, not decoded


class ImageProblem(Exception):
    """An image that cannot be sent; ``kind`` is the short name a result shows."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def list_images(folder: Path) -> tuple[list[Path], list[Path]]:
    """(images, other files) under ``folder``, sorted; images by suffix."""
    images: list[Path] = []
    others: list[Path] = []
    for path in sorted(p for p in folder.rglob("*") if not p.is_dir()):
        (images if path.suffix.lower() in IMAGE_SUFFIXES else others).append(path)
    return images, others


def expected_class(folder: Path, path: Path) -> str | None:
    """The ``<class>/`` subfolder an image sits in, if any."""
    rel = path.relative_to(folder)
    return rel.parts[0] if len(rel.parts) > 1 else None


def load_image(path: Path, signature: Signature, scale: float = 1.0) -> Any:
    """The image as the signature wants it: its H x W x C uint8 pixels (the encoder
    writes them as floats in 0..1 or 0..255, or as integers), or the file's bytes."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    data = path.read_bytes()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageProblem(
                    "too large", f"{img.width}x{img.height} pixels is over {MAX_PIXELS:,}"
                )
            if signature.takes_bytes:
                img.verify()
                return data
            h, w, c = signature.shape
            pixels = img.convert("L" if c == 1 else "RGB")
            if pixels.size != (w, h):
                pixels = pixels.resize((w, h), Image.Resampling.BILINEAR)
            arr = np.asarray(pixels)
    except ImageProblem:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageProblem("too large", str(exc)[:120]) from None
    except UnidentifiedImageError:
        raise ImageProblem("not an image", "not an image file mltui can decode") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageProblem("corrupt image", str(exc)[:160] or "cannot be decoded") from None
    if c == 1:
        arr = arr[:, :, None]
    return np.ascontiguousarray(arr, dtype=np.uint8)  # the encoder scales it


def load_classes(path: Path | None) -> list[str] | None:
    """Class names: one a line, or a JSON list, or a JSON object {index: name}."""
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError:
        return [line.strip() for line in text.splitlines() if line.strip()]
    if isinstance(data, list):
        return [str(x) for x in data]
    if isinstance(data, dict):
        pairs = sorted((int(k), str(v)) for k, v in data.items())
        return [v for _, v in pairs]
    raise PredictError(f"{path}: class names must be lines, a JSON list or a JSON object")
