#!/usr/bin/env python3
"""Fuzz every surface where outside input enters mltui, for a bounded time each.

    python tools/fuzz.py [--seconds 20] [--surface NAME ...] [--seed N]

Surfaces: the log decoder (multiplexed and TTY, chunked, fed in random splits),
the config parser, predict answers, image files, the notebook server list JSON
and the token masking. Inputs are valid seeds mutated at random (bytes flipped,
cut, repeated, spliced with hostile pieces: escape sequences, C1 and bidi
controls, huge numbers, deep nesting, impossible timestamps). The oracles are
written here, apart from the code under test:

- no exception but the surface's own "this input is bad" error;
- every text meant for a terminal holds no escape sequence but a well-formed SGR
  without conceal, no C0/C1 control, no bidi control;
- every input finishes within a bound (a hang is a failure);
- the log decoder returns one line per newline it was given (nothing lost).

It prints, per surface, the inputs tried and the failures found, writes each
failing input under bench/out/fuzz/, and exits 1 when any failed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import struct
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

OUT = REPO / "bench" / "out" / "fuzz"
PER_INPUT_S = 5  # one input taking longer than this is a hang

# -- the terminal-safety oracle (independent of mltui's sanitiser) -------------
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def unsafe_at(text: str) -> int | None:
    """The index of the first character that must not reach a terminal, or None."""
    i = 0
    while i < len(text):
        ch = text[i]
        code = ord(ch)
        if ch == "\x1b":
            m = _SGR.match(text, i)
            if m is None:
                return i
            params = [p for p in m.group(1).split(";") if p]
            if any(p.lstrip("0") == "8" for p in params) or any(len(p) > 5 for p in params):
                return i  # conceal, or an absurd parameter
            i = m.end()
            continue
        if (code < 0x20 and ch != "\t") or 0x7F <= code <= 0x9F or code in _BIDI:
            return i
        i += 1
    return None


# -- mutation ------------------------------------------------------------------
HOSTILE = [
    b"\x1b]52;c;ZXZpbA==\x07",
    b"\x1b[?1049h",
    b"\x1b[6n",
    b"\x1b[08m",
    b"\x1b[" + b"9" * 5000 + b"m",
    b"\x1bP+q\x1b\\",
    b"\xc2\x9b31m",
    "\u202e\u2066\u061c\u200b".encode(),
    b"\r" * 50,
    b"\x00\x07\x08\x7f",
    b"2026-13-45T10:00:00+01:00 ",
    b"9" * 5000,
    b"0x" + b"f" * 3000,
    b"[" * 1200,
    b'{"a":' * 1200,
    b"NaN",
    b"-Infinity",
    b"1e999999",
    b"\xff\xfe\xfd",
    b'"""',
    b"\n",
]


def mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(6)
        pos = rng.randint(0, len(data))
        if op == 0 and data:  # flip a byte
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1:  # splice a hostile piece
            data[pos:pos] = rng.choice(HOSTILE)
        elif op == 2 and data:  # cut a range
            end = min(len(data), pos + rng.randint(1, 64))
            del data[pos:end]
        elif op == 3 and data:  # repeat a range
            end = min(len(data), pos + rng.randint(1, 32))
            data[pos:pos] = data[pos:end] * rng.randint(2, 50)
        elif op == 4:  # random bytes
            data[pos:pos] = rng.randbytes(rng.randint(1, 40))
        else:  # another seed's tail
            data[pos:pos] = rng.choice(HOSTILE)[: rng.randint(1, 30)]
    return bytes(data[: 1 << 20])


def splits(rng: random.Random, data: bytes) -> Iterable[bytes]:
    i = 0
    while i < len(data):
        n = rng.choice((1, 2, 7, 64, 4096, len(data)))
        yield data[i : i + n]
        i += n


class Failure(Exception):
    pass


def check_text(text: str, where: str) -> None:
    bad = unsafe_at(text)
    if bad is not None:
        raise Failure(f"{where}: unsafe character {text[bad : bad + 12]!r} at {bad}")


# -- surfaces -------------------------------------------------------------------
STAMP = b"2026-12-03T07:00:00.123456789Z "


def _frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def _chunked(body: bytes, rng: random.Random) -> bytes:
    out = bytearray()
    for piece in splits(rng, body):
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return bytes(out + b"0\r\n\r\n")


LOG_SEEDS = [
    b"hello world\n",
    b"\x1b[31mred\x1b[0m and \x1b[1;32mbold green\x1b[0m\n",
    b"epoch 1 [=====>    ] 50%\repoch 1 [==========] 100%\n",
    b"starting\n\x1b]52;c;ZXZpbA==\x07\x1b[?1049h\x1b[6nAZ x\n",
    "caf\u00e9 \u2603 \u4e2d\u6587\n".encode(),
]


def _log_lines(tty: bool) -> Callable[[random.Random], None]:
    from mltui.core.logstream import LogDecoder, LogStreamError

    def one(rng: random.Random) -> None:
        text = mutate(rng, rng.choice(LOG_SEEDS))
        lines = text[:-1].split(b"\n") if text.endswith(b"\n") else text.split(b"\n")
        stamped = b"".join(
            (STAMP if rng.random() < 0.9 else rng.choice([HOSTILE[10], b""])) + ln + b"\n"
            for ln in lines
        )
        frames: list[bytes] = []
        if tty:
            body = stamped
        else:
            # the engine frames whole lines (a write), each frame one stream
            rows = [row + b"\n" for row in stamped.split(b"\n")[:-1]]
            i = 0
            while i < len(rows):
                n = rng.randint(1, 4)
                frames.append(_frame(rng.choice((1, 2)), b"".join(rows[i : i + n])))
                i += n
            body = b"".join(frames)
        chunked = rng.random() < 0.5
        wire = _chunked(body, rng) if chunked else body
        decoder = LogDecoder(chunked=chunked, tty=tty)
        out: list[str] = []
        try:
            for piece in splits(rng, wire):
                got, _streams = decoder.feed(piece)
                out += got
            got, _streams = decoder.flush()
            out += got
        except LogStreamError:
            return
        for line in out:
            check_text(line, "log line")
        # nothing lost: one line out per line in; in the multiplexed stream the engine
        # sends one log entry a frame, and a frame holding several lines is one entry
        # (its newlines shown as a picture). A line over the bound is cut, not dropped.
        want = stamped.count(b"\n") if tty else len(frames)
        if not want <= len(out) <= want + 1:
            raise Failure(f"{want} lines in, {len(out)} out")

    return one


CONFIG_SEEDS = [
    b'theme = "textual-dark"\nread_only = false\n[logs]\nmax_lines = 100000\n',
    b'[engine]\nhost = "unix:///var/run/docker.sock"\nrefresh_fallback_s = 300\n',
    b'[keys]\n"services.logs" = "l"\n[predict]\nconcurrency = 8\n[[predict.endpoints]]\nurl = "http://127.0.0.1:8501"\nmodel = "m"\n',
    b'theme = """\n[' + b" " * 400 + b'x\n"""\n',
]


def _config(rng: random.Random) -> None:
    from mltui.core.config import parse

    text = mutate(rng, rng.choice(CONFIG_SEEDS)).decode("utf-8", "replace")
    _cfg, problems = parse(text, "fuzz.toml")
    for problem in problems:
        check_text(str(problem), "config problem")


ANSWER_SEEDS = [
    b'{"predictions": [[0.1, 0.9]]}',
    b'{"predictions": [{"probabilities": [0.2, 0.8], "classes": 1}]}',
    b'{"outputs": [[0.5, 0.5]]}',
    b'{"model_name": "m", "outputs": [{"name": "p", "shape": [1, 2], "datatype": "FP32", "data": [0.3, 0.7]}]}',
    b'{"error": "Servable not found for request: Latest(m)"}',
    b'{"detail": [{"loc": ["body"], "msg": "field required"}]}',
]


def _answers(rng: random.Random) -> None:
    from mltui.core.predict.answers import AnswerProblem, read_scores
    from mltui.core.predict.protocols import ServedModel

    body = mutate(rng, rng.choice(ANSWER_SEEDS))
    served = ServedModel("http://127.0.0.1:1", "m", rng.choice(("tfserving", "kserve-v1", "v2")))
    status = rng.choice((200, 200, 200, 400, 404, 500))
    ctype = rng.choice(("application/json", "text/html", ""))
    try:
        scores, output = read_scores(served, status, ctype, body, 1)
    except AnswerProblem as exc:
        check_text(exc.message, "answer problem")
        return
    check_text(output, "output name")
    if not all(isinstance(x, float) for row in scores for x in row):
        raise Failure("scores that are not floats")


def _png_seed() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _images() -> Callable[[random.Random], None]:
    from mltui.core.predict.images import ImageProblem, load_image
    from mltui.core.predict.signatures import Signature

    seeds = [_png_seed()]
    folder = Path(tempfile.mkdtemp(prefix="mltui-fuzz-img-"))

    def one(rng: random.Random) -> None:
        path = folder / rng.choice(("a.png", "b.jpg", "c.gif"))
        path.write_bytes(mutate(rng, rng.choice(seeds)))
        try:
            load_image(path, Signature(shape=(28, 28, rng.choice((1, 3)))))
        except ImageProblem as exc:
            check_text(exc.message if hasattr(exc, "message") else str(exc), "image problem")

    return one


JUPYTER_SEEDS = [
    b'{"base_url": "/", "hostname": "localhost", "password": false, "pid": 7, "port": 8888, '
    b'"root_dir": "/home/jovyan", "secure": false, "sock": "", "token": "c8eb1f3a9d2e4b5c6d7e8f9a", '
    b'"url": "http://localhost:8888/", "version": "2.14.0"}\n',
]


def _jupyter(rng: random.Random) -> None:
    from mltui.core.jupyter_urls import mask_token, parse_list_json

    data = mutate(rng, rng.choice(JUPYTER_SEEDS))
    for server in parse_list_json(data):
        for value in vars(server).values():
            if isinstance(value, str) and value != getattr(server, "token", None):
                check_text(value, "notebook field")
    token = rng.choice(("tok", "c8eb1f3a9d2e4b5c6d7e8f9a", "x" * rng.randint(1, 40)))
    url = f"http://127.0.0.1:8888/lab?token={token}&a=1#frag"
    shown = mask_token(url, token)
    value = shown.split("?token=", 1)[1].split("&", 1)[0] if "?token=" in shown else None
    if value is None or token in value or not shown.endswith("&a=1#frag"):
        raise Failure(f"token {token!r}: masked as {shown!r}")


SURFACES: dict[str, Callable[[], Callable[[random.Random], None]]] = {
    "logs": lambda: _log_lines(tty=False),
    "logs-tty": lambda: _log_lines(tty=True),
    "config": lambda: _config,
    "answers": lambda: _answers,
    "images": _images,
    "jupyter": lambda: _jupyter,
}


def _alarm(_sig: int, _frame: object) -> None:
    raise TimeoutError(f"one input took over {PER_INPUT_S} s")


def run(name: str, seconds: float, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    one = SURFACES[name]()
    tried = failed = 0
    deadline = time.monotonic() + seconds
    signal.signal(signal.SIGALRM, _alarm)
    while time.monotonic() < deadline:
        tried += 1
        signal.alarm(PER_INPUT_S)
        try:
            one(rng)
        except Exception as exc:  # every exception here is a finding
            failed += 1
            OUT.mkdir(parents=True, exist_ok=True)
            report = OUT / f"{name}-{seed}-{tried}.txt"
            report.write_text(
                f"surface {name}, seed {seed}, input {tried}\n"
                + "".join(traceback.format_exception(exc))
            )
            if failed <= 3:
                print(f"  {name}: {type(exc).__name__}: {str(exc)[:200]} ({report})", flush=True)
        finally:
            signal.alarm(0)
    return tried, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per surface (default 20)")
    parser.add_argument("--surface", action="append", choices=sorted(SURFACES))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "1")))
    args = parser.parse_args()
    total_failed = 0
    print(
        f"{'surface':<10} {'inputs':>9} {'failures':>9}   ({args.seconds:g} s each, seed {args.seed})"
    )
    for name in args.surface or list(SURFACES):
        tried, failed = run(name, args.seconds, args.seed)
        total_failed += failed
        print(f"{name:<10} {tried:>9,} {failed:>9}", flush=True)
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
