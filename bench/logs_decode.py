"""Log decoder alone (no engine): time and peak memory of a few shapes of stream.

1. A TTY progress bar that only redraws with CR: SIZE MiB without a newline, as
   the engine sends it (its stamp every 16 KiB partial message), read 256 KiB at
   a time. Must be linear in time and bounded in memory.
2. The same bar in a multiplexed stream (the reference: frames of 16 KiB).
3. 500,000 ordinary lines of ~100 bytes, multiplexed and chunked (the common case:
   the stamps' check must not slow it down).

Each case runs in a fresh process (peak RSS is per process). Run:
`python bench/logs_decode.py [--mib 64] [--src PATH]` (``--src`` points at another
checkout's src/ to compare).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TS = b"2026-11-26T21:14:19.628794017Z "
READ = 1 << 18


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def bar_text(mib: int) -> bytes:
    step = b"".join(b"\r%6d/20000 [####      ]" % i for i in range(2000))
    return (step * (mib * (1 << 20) // len(step) + 1))[: mib << 20]


def case(name: str, mib: int) -> None:
    from mltui.core.logstream import PARTIAL_SIZE, LogDecoder

    if name == "tty-bar":
        text = bar_text(mib)
        pieces = [TS + text[i : i + PARTIAL_SIZE] for i in range(0, len(text), PARTIAL_SIZE)]
        data = b"".join(pieces) + b"\n" + TS + b"done\n"
        dec = LogDecoder(chunked=False, tty=True)
    elif name == "mux-bar":
        text = bar_text(mib)
        pieces = [TS + text[i : i + PARTIAL_SIZE] for i in range(0, len(text), PARTIAL_SIZE)]
        pieces[-1] += b"\n"
        data = b"".join(frame(1, p) for p in pieces) + frame(1, TS + b"done\n")
        dec = LogDecoder(chunked=False, tty=False)
    else:
        line = b" %09d INFO step=1 loss=0.1234 lr=3e-4 batch=256 the rest of a typical training log line\n"
        data = b"".join(frame(1, TS + line % i) for i in range(500_000))
        dec = LogDecoder(chunked=False, tty=False)
    best = float("inf")
    for _ in range(3):  # best of 3 (CPU time: the machines are shared and noisy)
        count = run(LogDecoder(chunked=False, tty=dec.tty), data)
        best = min(best, time.process_time() - START[0])
    tracemalloc.start()  # then once more for the decoder's peak memory
    run(LogDecoder(chunked=False, tty=dec.tty), data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"{name:8} {len(data) / 2**20:6.1f} MiB in {count:7d} lines out  {best:6.2f} s CPU  "
        f"decoder's peak memory {peak / 2**20:6.1f} MiB"
    )


START = [0.0]


def run(dec: Any, data: bytes) -> int:
    START[0] = time.process_time()
    count = 0
    for i in range(0, len(data), READ):
        count += len(dec.feed(data[i : i + READ])[0])
    return count + len(dec.flush()[0])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mib", type=int, default=64)
    p.add_argument("--src", default=str(REPO / "src"))
    p.add_argument("--case")
    args = p.parse_args()
    if args.case:
        sys.path.insert(0, args.src)
        case(args.case, args.mib)
        return
    for name in ("tty-bar", "mux-bar", "lines"):
        cmd = [sys.executable, __file__, "--case", name, "--mib", str(args.mib), "--src", args.src]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
