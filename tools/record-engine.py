"""Record what the engine answers (lists, inspects and raw log streams of one
service's replicas) into a JSON file that tests/ui/recorded.py replays for
pixel-stable SVG snapshots.

    .venv/bin/python tools/record-engine.py SERVICE OUT.json
"""

from __future__ import annotations

import base64
import json
import sys

from mltui.core.engine import Engine
from mltui.core.inventory import Inventory
from mltui.core.logs import find_service, sources_of
from mltui.core.logstream import LogDecoder


def main(service_name: str, out: str) -> int:
    engine = Engine()
    snap = Inventory(engine).snapshot()
    service = find_service(snap, service_name)

    def in_stack(labels: dict) -> bool:
        return service.stack in (
            labels.get("com.docker.stack.namespace"),
            labels.get("com.docker.compose.project"),
        )

    api = engine._client()
    data = {
        "version": api.version(),
        "info": api.info(),
        # only what belongs to the service's stack
        "containers": [c for c in engine.containers() if in_stack(c.get("Labels") or {})],
        "services": [s for s in engine.services() if in_stack(s["Spec"].get("Labels") or {})],
        "inspect": {},
        "logs": {},
    }
    ids = {s["ID"] for s in data["services"]}
    data["tasks"] = [t for t in engine.tasks() if t.get("ServiceID") in ids]
    for entry in data["containers"]:
        data["inspect"][entry["Id"]] = engine.inspect_container(entry["Id"])
    for src in sources_of(service):
        stream = engine.open_logs(
            src.path, {"stdout": 1, "stderr": 1, "timestamps": 1, "tail": "all"}, follow=False
        )
        raw = b""
        decoder = LogDecoder(chunked=stream.chunked, tty=False)
        while not decoder.eof and (chunk := stream.read()):
            raw += chunk
            decoder.feed(chunk)
        stream.close()
        data["logs"][src.key] = {"chunked": stream.chunked, "body": base64.b64encode(raw).decode()}
    with open(out, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    print(f"{out}: {len(data['containers'])} containers, logs of {len(data['logs'])} replicas")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
