"""build_snapshot over engine JSON recorded from a real Docker 20.10 swarm node."""

import json
from pathlib import Path

import pytest

from mltui.core.engine import EngineInfo
from mltui.core.inventory import (
    GpuRequest,
    build_snapshot,
    container_ports,
    gpu_from_inspect,
    gpu_from_resources,
    health_from_status,
    human_age,
    parse_time,
)
from mltui.core.report import rows

DATA = json.loads((Path(__file__).parent / "data" / "engine-swarm-sample.json").read_text())
INFO = EngineInfo(
    target="unix:///var/run/docker.sock", state="connected", swarm="active", swarm_manager=True
)
# the moment the sample was recorded, a few seconds after its newest task
NOW = max(parse_time(t["Status"]["Timestamp"]) for t in DATA["tasks"]) + 5


def sample():
    return build_snapshot(
        INFO, DATA["containers"], DATA["services"], DATA["tasks"], DATA["inspect"], now=NOW
    )


def by_name(snap):
    return {s.name: s for s in snap.services()}


def test_recorded_swarm_services():
    svcs = by_name(sample())
    crash = svcs["crash"]
    assert crash.kind == "swarm" and crash.crashloop and crash.state == "crashloop"
    assert crash.last_exit == 3 and crash.last_error == "task: non-zero exit (3)"
    assert crash.restarts >= 2
    rep = svcs["rep"]
    assert (rep.running, rep.desired) == (0, 2)
    assert rep.state == "starting"
    assert rep.gpu == GpuRequest(generic=(("NVIDIA-GPU", "1"),))
    assert rep.last_error == "no suitable node (insufficient resources on 1 node)"
    ok = svcs["ok"]
    assert (ok.running, ok.desired) == (1, 2) and ok.state == "degraded"
    assert ok.ports == ("9998->80/tcp (host)",)


def test_recorded_loose_containers():
    svcs = by_name(sample())
    plain = svcs["plain"]
    assert plain.kind == "container" and plain.state == "running"
    assert plain.replicas[0].health == "healthy"
    assert plain.ports == ("127.0.0.1:9999->80/tcp",)
    gpuc = svcs["gpuc"]
    assert gpuc.state == "created" and gpuc.gpu.summary == "all GPUs"
    # task containers are shown under their swarm service, not as loose containers
    assert not any(s.name.startswith("crash.") for s in sample().services())


def test_stack_order_and_rows_are_stable():
    snap = sample()
    assert [s.kind for s in snap.stacks] == ["swarm", "none"]
    first = [r.key for r in rows(snap, now=NOW)]
    second = [r.key for r in rows(sample(), now=NOW)]
    assert first == second
    assert first[0] == "stack:swarm:"
    folded = rows(snap, collapsed=frozenset({"stack:swarm:"}), now=NOW)
    assert not any(r.key.startswith("svc:swarm:") for r in folded)


def test_json_round_trip():
    data = json.loads(json.dumps(sample().as_dict()))
    names = {s["name"] for st in data["stacks"] for s in st["services"]}
    assert {"crash", "rep", "ok", "plain", "gpuc"} <= names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-26T19:07:41.969420208Z", 1795720061.969420),
        ("2026-11-26T19:07:41Z", 1795720061.0),
        ("2026-11-26T19:07:41.5+01:00", 1795716461.5),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        ("garbage", None),
        (None, None),
        (12, None),
    ],
)
def test_parse_time(value, expected):
    got = parse_time(value)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-5)


def test_human_age():
    assert [human_age(s) for s in (None, -3, 5, 61, 3600 * 2 + 120, 86400 * 3 + 3600)] == [
        "",
        "0s",
        "5s",
        "1m",
        "2h02m",
        "3d1h",
    ]


def test_health_from_status():
    assert health_from_status("Up 5 minutes (healthy)") == "healthy"
    assert health_from_status("Up 1 second (health: starting)") == "starting"
    assert health_from_status("Up 2 hours (unhealthy)") == "unhealthy"
    assert health_from_status("Exited (0) 3 days ago") == ""


def test_gpu_from_inspect_variants():
    assert (
        gpu_from_inspect(
            {"HostConfig": {"DeviceRequests": None, "Runtime": "runc"}, "Config": {"Env": []}}
        )
        is None
    )
    two = gpu_from_inspect(
        {
            "HostConfig": {
                "DeviceRequests": [
                    {"Driver": "", "Count": 0, "DeviceIDs": ["0", "1"], "Capabilities": [["gpu"]]}
                ]
            }
        }
    )
    assert two.device_ids == ("0", "1") and two.summary == "GPU 0,1"
    runtime = gpu_from_inspect(
        {
            "HostConfig": {"Runtime": "nvidia"},
            "Config": {"Env": ["PATH=/bin", "NVIDIA_VISIBLE_DEVICES=all"]},
        }
    )
    assert runtime.runtime == "nvidia" and runtime.visible_devices == "all"
    assert runtime.summary == "nvidia runtime"
    env_only = gpu_from_inspect({"HostConfig": {}, "Config": {"Env": ["NVIDIA_VISIBLE_DEVICES=0"]}})
    assert env_only.summary == "NVIDIA_VISIBLE_DEVICES=0"
    # other device requests (not GPUs) are not a GPU request
    assert (
        gpu_from_inspect(
            {"HostConfig": {"DeviceRequests": [{"Driver": "foo", "Capabilities": [["fpga"]]}]}}
        )
        is None
    )
    # malformed shapes do not crash
    assert (
        gpu_from_inspect(
            {"HostConfig": {"DeviceRequests": ["x", None]}, "Config": {"Env": [None, 3]}}
        )
        is None
    )


def test_gpu_from_swarm_resources():
    named = gpu_from_resources(
        {
            "Reservations": {
                "GenericResources": [{"NamedResourceSpec": {"Kind": "gpu", "Value": "GPU-1234"}}]
            }
        }
    )
    assert named.summary == "gpu=GPU-1234"
    assert gpu_from_resources({}) is None
    assert gpu_from_resources(None) is None


def test_ports_formatting_and_bad_shapes():
    entry = {
        "Ports": [
            {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"PrivatePort": 443, "Type": "tcp"},
            "nonsense",
            {"IP": "127.0.0.1", "PrivatePort": 8888, "PublicPort": 8888, "Type": "tcp"},
        ]
    }
    assert container_ports(entry) == ("8080->80/tcp", "127.0.0.1:8888->8888/tcp")


def test_a_container_in_the_host_network_says_so_instead_of_no_ports():
    host = {"Ports": [], "HostConfig": {"NetworkMode": "host"}}
    assert container_ports(host) == ("host network",)
    assert container_ports({"Ports": [], "HostConfig": {"NetworkMode": "bridge"}}) == ()
    assert container_ports({"Ports": [], "HostConfig": "host"}) == ()


def test_garbage_engine_json_never_crashes():
    containers = [
        {"Id": "a" * 64},  # no names, no labels, no state
        {"Id": "b" * 64, "Names": None, "Labels": None, "State": None, "Ports": None},
        {
            "Id": "c" * 64,
            "Names": ["/x"],
            "Labels": {
                "com.docker.compose.project": "p",
                "com.docker.compose.service": "s",
                "com.docker.compose.container-number": "NaN",
            },
        },
        "not a dict",
    ]
    services = [{"ID": "s1", "Spec": {"Mode": {"Global": {}}}}, {"ID": "s2"}, None]
    tasks = [
        {"ServiceID": "s1", "Status": None},
        {"ServiceID": "s2", "Slot": "x", "Status": {"State": "failed"}},
    ]
    snap = build_snapshot(
        INFO, containers, services, tasks, {"a" * 64: {"State": "weird"}}, now=NOW
    )
    assert rows(snap, now=NOW)
    json.dumps(snap.as_dict())


# -- property: any mangling of real engine JSON still gives a snapshot ------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def mangle(entries, data):
    out = []
    for entry in entries:
        entry = dict(entry)
        keys = sorted(entry)
        for key in data.draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
            entry[key] = data.draw(json_values)
        out.append(entry)
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_engine_json_never_crashes(data):
    containers = mangle(DATA["containers"], data)
    services = mangle(DATA["services"], data)
    tasks = mangle(DATA["tasks"], data)
    snap = build_snapshot(INFO, containers, services, tasks, DATA["inspect"], now=NOW)
    for row in rows(snap, now=NOW):
        assert all(isinstance(c, str) for c in row.cells)
    json.dumps(snap.as_dict())


def test_image_shown_by_id_is_shortened():
    entry = {
        "Id": "d" * 64,
        "Names": ["/orphan"],
        "Image": "sha256:0746888105de" + "4" * 52,
        "State": "exited",
    }
    snap = build_snapshot(INFO, [entry], now=NOW)
    assert next(snap.services()).image == "sha256:0746888105de"
