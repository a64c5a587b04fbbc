"""Test images: find them in a folder, read and resize them as a signature wants,
class names, and the true class from the folder an image sits in."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from .signatures import MAX_INPUT_VALUES, PredictError, Signature

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"}
MAX_PIXELS = 64_000_000  # a bigger image is refused, not decoded
MAX_FILE_BYTES = 256 << 20  # a bigger file is refused, not read (64 Mpx RGB, uncompressed)


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


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def _not_regular(mode: int) -> ImageProblem:
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return ImageProblem("not a file", f"{kind}, not a regular file: not read")


def open_image_file(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is (or links to) a regular file of at most
    :data:`MAX_FILE_BYTES`; ImageProblem otherwise, before a byte is read (a FIFO
    would block, a device never ends, a huge sparse file costs its size)."""
    mode = os.stat(path).st_mode  # follows symlinks; OSError: "unreadable"
    if not stat.S_ISREG(mode):
        raise _not_regular(mode)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)  # what was opened, should the name have changed since
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(st.st_mode)
        if st.st_size > MAX_FILE_BYTES:
            raise ImageProblem(
                "too large", f"{st.st_size:,} bytes is over mltui's limit of {MAX_FILE_BYTES:,}"
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def load_image(path: Path, signature: Signature, scale: float = 1.0) -> Any:
    """The image as the signature wants it: its H x W x C uint8 pixels (the encoder
    writes them as floats in 0..1 or 0..255, or as integers), or the file's bytes.

    Only a regular file is opened; its header is read (format, size) before its
    data, and every read is bounded (:data:`MAX_FILE_BYTES`, :data:`MAX_PIXELS`)."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    h, w, c = signature.shape
    if not signature.takes_bytes and h * w * c > MAX_INPUT_VALUES:
        raise ImageProblem("too large", f"the input shape {h}x{w}x{c} is over mltui's limit")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with open_image_file(path) as fh:
        try:
            with Image.open(fh) as img:  # the header only
                if img.width * img.height > MAX_PIXELS:
                    raise ImageProblem(
                        "too large", f"{img.width}x{img.height} pixels is over {MAX_PIXELS:,}"
                    )
                if signature.takes_bytes:
                    img.verify()
                    fh.seek(0)
                    data = fh.read(MAX_FILE_BYTES + 1)
                    if len(data) > MAX_FILE_BYTES:
                        raise ImageProblem("too large", f"over {MAX_FILE_BYTES:,} bytes")
                    return data
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
        except MemoryError:
            raise ImageProblem("too large", "not enough memory to decode it") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageProblem("corrupt image", str(exc)[:160] or "cannot be decoded") from None
        except Exception as exc:  # a decoder's own failure on a broken file
            raise ImageProblem("corrupt image", f"{type(exc).__name__}: {str(exc)[:120]}") from None
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
