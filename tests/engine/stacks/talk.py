"""Print N numbered lines tagged with this container's hostname (its short id),
every 10th on stderr, 50 ms apart (replicas overlap in time); then stay up (or exit with --exit)."""

import os
import sys
import time

count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
host = os.uname().nodename
for i in range(count):
    out = sys.stderr if i % 10 == 9 else sys.stdout
    print(f"{host} {i}", file=out, flush=True)
    time.sleep(0.05)
if "--exit" in sys.argv:
    sys.exit(3)
while True:
    time.sleep(3600)
