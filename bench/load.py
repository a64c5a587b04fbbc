"""Load benchmark: `mltui load` against Debian's `hey` (the load generator k9s
uses), same endpoint, same body, same concurrency, same duration, in one run.

The endpoint is the demo stack (4 model replicas behind nginx), deployed here
with `mltui demo up --detach` on a free port and removed afterwards, or the one
``--url`` names. The body is one demo test image as `mltui load` encodes it
(written to a file for hey's ``-D``); the folder `mltui load` gets holds just
that image, so both send the very same bytes.

    hey -z 10s -c 8 -m POST -T application/json -D body.json URL
    mltui load FOLDER --url URL --concurrency 8 --duration 10 --json

The two alternate for ``--rounds`` rounds (a warm-up of each first); the medians
give the ratios. Targets: throughput at least 0.85x hey's, p50 within 15%.

First, why the workers use raw sockets: the client's own cost per request,
measured against a no-op HTTP server in another process on 127.0.0.1 (one
connection, a small body), for ``requests.Session``, ``http.client`` and a raw
socket that sends prebuilt bytes and parses the answer with ``http.client``'s
parser, then `mltui load`'s own worker (which adds the histogram and the check
for a dropped connection) at concurrency 1.

Run: `python bench/load.py [--duration 10] [--concurrency 8] [--rounds 3] [--url URL]
[--compose]`.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from mltui.core import predict as core  # noqa: E402
from mltui.core.predict.load import LoadBody, load_bodies  # noqa: E402
from mltui.deploy.stacks import DEMO_DIR  # noqa: E402

IMAGE = sorted((DEMO_DIR / "test-images" / "7").glob("*.png"))[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mltui(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mltui.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def run_hey(url: str, body: Path, concurrency: int, duration: float) -> dict[str, float]:
    out = subprocess.run(
        ["hey", "-z", f"{duration:g}s", "-c", str(concurrency), "-m", "POST",
         "-T", "application/json", "-D", str(body), url],
        capture_output=True, text=True, check=True, timeout=duration + 120,
    ).stdout  # fmt: skip
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50% in ([\d.]+) secs", out)
    if rps is None or p50 is None:
        raise SystemExit(f"hey's output without a rate or a p50:\n{out}")
    # hey leaves out the 95% line (prints "0% in 0.0000") when it has few answers
    p95 = re.search(r"95% in ([\d.]+) secs", out)
    codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", out))
    errors = sum(int(n) for c, n in codes.items() if c != "200")
    if errors or "Error distribution" in out:
        raise SystemExit(f"hey saw errors:\n{out}")
    return {
        "rps": float(rps.group(1)),
        "p50": float(p50.group(1)) * 1000,
        "p95": float(p95.group(1)) * 1000 if p95 else float("nan"),
    }


def run_mltui(url: str, folder: Path, concurrency: int, duration: float) -> dict[str, float]:
    out = mltui(
        "load", str(folder), "--url", url, "--concurrency", str(concurrency),
        "--duration", f"{duration:g}", "--max-requests", "1000000", "--json",
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"mltui load failed:\n{out.stderr}")
    level = json.loads(out.stdout)["levels"][0]
    if level["failed"]:
        raise SystemExit(f"mltui load saw errors: {level['errors']}")
    lat = level["latency_ms"]
    return {"rps": level["throughput_rps"], "p50": lat["p50"], "p95": lat["p95"]}


NOOP_SERVER = r"""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"predictions": [[0.1, 0.9]]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


def client_costs(count: int = 2000) -> list[tuple[str, float, float]]:
    """(client, requests a second, client CPU µs a request) against a no-op server."""
    import http.client
    import time

    import requests

    from mltui.core.predict.load import run_load

    server = subprocess.Popen(
        [sys.executable, "-c", NOOP_SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        path, body = "/v1/models/m:predict", b'{"instances": [[0.5]]}'
        headers = {"Content-Type": "application/json"}

        def with_requests(n: int) -> None:
            session = requests.Session()
            for _ in range(n):
                _ = session.post(
                    f"http://127.0.0.1:{port}{path}", data=body, headers=headers
                ).content

        def with_http_client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port)
            for _ in range(n):
                conn.request("POST", path, body, headers)
                conn.getresponse().read()

        raw = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

        def with_raw_socket(n: int) -> None:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(n):
                sock.sendall(raw)
                answer = http.client.HTTPResponse(sock, method="POST")
                answer.begin()
                answer.read()

        out = []
        for name, fn in (
            ("requests.Session", with_requests),
            ("http.client", with_http_client),
            ("raw socket", with_raw_socket),
        ):
            fn(50)
            runs = []
            for _ in range(3):  # the best of three: the machine may be busy
                wall, cpu = time.perf_counter(), time.process_time()
                fn(count)
                runs.append((time.perf_counter() - wall, time.process_time() - cpu))
            wall, cpu = min(runs)
            out.append((name, count / wall, cpu / count * 1e6))
        served = core.ServedModel(f"http://127.0.0.1:{port}", "m", "tfserving")
        bodies = [LoadBody(body)]
        cpu = time.process_time()
        report = run_load(served, bodies, [1], duration_s=2.0, max_requests=count)
        cpu = time.process_time() - cpu
        level = report.levels[0]
        out.append(("mltui load worker", level.throughput, cpu / max(1, level.requests) * 1e6))
        return out
    finally:
        server.kill()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", help="an endpoint already up (default: deploy the demo)")
    parser.add_argument(
        "--compose", action="store_true", help="deploy the demo with Compose, not as a swarm stack"
    )
    args = parser.parse_args()
    if not shutil.which("hey"):
        raise SystemExit("hey is missing: apt-get install -y hey")
    costs = client_costs()
    for client, rps, cpu in costs:
        print(f"{client:>18}: {rps:7.0f} req/s, client CPU {cpu:5.0f} µs a request")
    name = "mltuibenchload"
    mode = ["--compose"] if args.compose else []
    url = args.url
    if not url:
        port = free_port()
        up = mltui("demo", "up", "--detach", "--name", name, "--port", str(port),
                   "--notebook-port", str(free_port()), *mode)  # fmt: skip
        if up.returncode != 0:
            raise SystemExit(f"demo up failed:\n{up.stderr}")
        url = f"http://127.0.0.1:{port}"
    try:
        served = core.detect(url, "my_model")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "one" / IMAGE.parent.name
            folder.mkdir(parents=True)
            shutil.copy(IMAGE, folder / IMAGE.name)
            (body,) = load_bodies(served, folder.parent)
            body_file = Path(tmp) / "body.json"
            body_file.write_bytes(body.data)
            target = served.predict_url
            c, d = args.concurrency, args.duration
            print(f"{target}: body {len(body.data):,} bytes, concurrency {c}, {d:g} s a run")
            run_hey(target, body_file, c, min(d, 3))  # warm-up: connections, caches
            run_mltui(url, folder.parent, c, min(d, 3))
            hey, ours = [], []
            for i in range(args.rounds):
                hey.append(run_hey(target, body_file, c, d))
                ours.append(run_mltui(url, folder.parent, c, d))
                print(
                    f"round {i + 1}: hey {hey[-1]['rps']:.1f} req/s p50 {hey[-1]['p50']:.1f} ms "
                    f"p95 {hey[-1]['p95']:.1f} ms; mltui {ours[-1]['rps']:.1f} req/s "
                    f"p50 {ours[-1]['p50']:.1f} ms p95 {ours[-1]['p95']:.1f} ms"
                )
    finally:
        if not args.url:
            mltui("demo", "down", "--name", name, *mode)

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    rps_ratio = med(ours, "rps") / med(hey, "rps")
    p50_ratio = med(ours, "p50") / med(hey, "p50")
    print()
    print("| client, one connection, no-op server on 127.0.0.1 | req/s | client CPU a request |")
    print("| --- | --- | --- |")
    for client, rps, cpu in costs:
        print(f"| {client} | {rps:.0f} | {cpu:.0f} µs |")
    print()
    print("| measure | mltui load | baseline, same run |")
    print("| --- | --- | --- |")
    print(
        f"| throughput, concurrency {c}, {d:g} s, demo (4 replicas, nginx), median of "
        f"{args.rounds} | {med(ours, 'rps'):.1f} req/s | hey {med(hey, 'rps'):.1f} req/s "
        f"(ratio {rps_ratio:.2f}, target >= 0.85) |"
    )
    print(
        f"| latency p50 / p95 | {med(ours, 'p50'):.1f} / {med(ours, 'p95'):.1f} ms | hey "
        f"{med(hey, 'p50'):.1f} / {med(hey, 'p95'):.1f} ms (p50 ratio {p50_ratio:.2f}, "
        f"target within 15%) |"
    )


if __name__ == "__main__":
    main()
