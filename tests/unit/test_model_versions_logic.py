"""Pure logic of issue 15: McNemar's exact test, pairing two runs, the metrics page,
the model config file (text proto) and a version's state in words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltui.core.predict import Result, ServedModel, summarize
from mltui.core.predict.compare import Side, compare_results, mcnemar_exact
from mltui.core.predict.metrics import MetricsProblem, parse_page, summarize_metrics
from mltui.core.predict.server_config import config_path
from mltui.core.predict.targets import state_problem
from mltui.core.predict.textproto import TextProtoError, model_entries, parse
from mltui.core.textsafe import safe_text

# -- McNemar's exact test ----------------------------------------------------------------
# Two-sided exact binomial p-values (p = 1/2) on the discordant pairs, as R's
# binom.test(min(b, c), b + c)$p.value gives them (worked by hand: 2 * sum C(n, i) / 2^n).
TEXTBOOK = [
    (1, 6, 0.125),  # 2 * (1 + 7) / 128
    (0, 5, 0.0625),  # 2 / 32
    (3, 12, 0.03515625),  # 2 * (1 + 15 + 105 + 455) / 32768
    (2, 10, 0.03857421875),  # 2 * (1 + 12 + 66) / 4096
    (10, 10, 1.0),  # capped at 1
    (0, 0, 1.0),  # no discordant pair: no evidence
    (12, 3, 0.03515625),  # symmetric
]


@pytest.mark.parametrize(("b", "c", "p"), TEXTBOOK)
def test_mcnemar_exact_matches_textbook_values(b, c, p):
    assert mcnemar_exact(b, c) == pytest.approx(p, rel=1e-12)


def test_mcnemar_exact_large_counts_neither_overflow_nor_fail():
    assert mcnemar_exact(5000, 5000) == 1.0
    assert 0.0 <= mcnemar_exact(0, 3000) < 1e-300
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


@given(st.integers(0, 300), st.integers(0, 300))
def test_mcnemar_is_a_probability_and_symmetric(b, c):
    p = mcnemar_exact(b, c)
    assert 0.0 <= p <= 1.0
    assert p == mcnemar_exact(c, b)


# -- pairing two runs ----------------------------------------------------------------------
def _side(version: str, answers: dict[str, tuple[str | None, str]]) -> Side:
    results = []
    for image, (predicted, expected) in answers.items():
        if predicted is None:
            results.append(Result(image, expected, error_kind="server 500", error="boom"))
        else:
            results.append(Result(image, expected, predicted, 0.9, latency_ms=5.0))
    served = ServedModel("http://127.0.0.1:1", "m", "tfserving", (version,), version=version)
    return Side(served, results, summarize(results, 1.0))


def test_compare_results_pairs_by_image():
    a = _side("1", {"1/a": ("1", "1"), "1/b": ("1", "1"), "2/c": ("2", "2"), "2/d": ("3", "2"),
                    "2/e": ("2", "2"), "3/f": (None, "3")})  # fmt: skip
    b = _side("2", {"1/a": ("1", "1"), "1/b": ("7", "1"), "2/c": ("2", "2"), "2/d": ("2", "2"),
                    "2/e": ("2", "2"), "3/f": ("3", "3")})  # fmt: skip
    cmp = compare_results(a, b)
    assert cmp.paired == 5 and cmp.agreed == 3
    assert cmp.agreement == pytest.approx(3 / 5)
    assert (cmp.a_only, cmp.b_only) == (1, 1)
    assert cmp.p_value == 1.0
    assert {d.image for d in cmp.disagreements} == {"1/b", "2/d", "3/f"}
    failed = next(d for d in cmp.disagreements if d.image == "3/f")
    assert failed.a is None and failed.b == "3"
    per = {c.name: c for c in cmp.per_class}
    assert per["1"].a_accuracy == 1.0 and per["1"].b_accuracy == 0.5
    assert per["2"].change == pytest.approx(1 / 3)
    assert cmp.notes == []


def test_compare_results_names_different_signatures():
    from mltui.core.predict import Signature

    a = _side("1", {"x": ("1", "1")})
    b = _side("2", {"x": ("1", "1")})
    b.served = ServedModel(
        "u", "m", "tfserving", signature=Signature("in", "DT_FLOAT", (112, 112, 3))
    )
    cmp = compare_results(a, b)
    assert cmp.notes and "different signatures" in cmp.notes[0]


# -- the metrics page ----------------------------------------------------------------------
# As TF Serving's util/prometheus_exporter.cc writes it: TYPE lines, no HELP, `/` -> `:`.
TF_PAGE = """# TYPE :tensorflow:serving:request_count counter
:tensorflow:serving:request_count{model_name="my_model",status="OK"} 40
:tensorflow:serving:request_count{model_name="my_model",status="INVALID_ARGUMENT"} 2
:tensorflow:serving:request_count{model_name="other",status="OK"} 5
# TYPE :tensorflow:serving:request_latency histogram
:tensorflow:serving:request_latency_bucket{model_name="my_model",API="predict",entrypoint="REST",le="1000"} 10
:tensorflow:serving:request_latency_bucket{model_name="my_model",API="predict",entrypoint="REST",le="2000"} 30
:tensorflow:serving:request_latency_bucket{model_name="my_model",API="predict",entrypoint="REST",le="+Inf"} 42
:tensorflow:serving:request_latency_sum{model_name="my_model",API="predict",entrypoint="REST"} 63000
:tensorflow:serving:request_latency_count{model_name="my_model",API="predict",entrypoint="REST"} 42
"""


def test_tf_serving_page_gives_counts_and_latency():
    page = parse_page(TF_PAGE, at=10.0)
    assert page.families == 2
    (mine, other) = summarize_metrics(page)
    assert mine.model == "my_model" and mine.requests == 42 and mine.errors == 2
    assert dict(mine.by_status) == {"OK": 40, "INVALID_ARGUMENT": 2}
    assert mine.rate_per_s is None  # one reading: no rate
    assert mine.mean_ms == pytest.approx(63000 / 42 / 1000)
    # rank 21 of 42 lies in (1000, 2000]: 1000 + 1000 * (21 - 10) / 20
    assert mine.p50_ms == pytest.approx(1.55)
    assert other.requests == 5


def test_two_readings_give_rates():
    first = parse_page(TF_PAGE, at=10.0)
    later = TF_PAGE.replace("} 40", "} 60").replace(
        '"INVALID_ARGUMENT"} 2', '"INVALID_ARGUMENT"} 6'
    )
    second = parse_page(later, at=12.0)
    mine = summarize_metrics(second, first)[0]
    assert mine.rate_per_s == pytest.approx((20 + 4) / 2)
    assert mine.error_rate_per_s == pytest.approx(2.0)


@pytest.mark.parametrize(
    "page",
    [
        '# TYPE x counter\nx{a="1} 3\n',  # an unclosed label value
        "x{a=1} 2\n",  # a label value without quotes
        '{a="1"} 2\n',  # no name
        "\x1b]52;c;aGk=\x07 1\n",  # an escape sequence where a name belongs
        '# TYPE x histogram\nx_bucket{le="1"} one\n',
    ],
)
def test_a_malformed_page_is_one_safe_sentence(page):
    with pytest.raises(MetricsProblem) as info:
        parse_page(page)
    assert info.value.message.startswith("the metrics page is malformed")
    assert info.value.message == safe_text(info.value.message, 1000)


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_any_page_gives_metrics_or_metrics_problem(text):
    try:
        for m in summarize_metrics(parse_page(text, at=1.0)):
            assert m.requests >= 0
    except MetricsProblem as exc:
        assert exc.message


# -- the model config file -----------------------------------------------------------------
CONFIG = """
# two versions, two labels
model_config_list {
  config {
    name: 'my_model'
    base_path: "/models/my_model"
    model_platform: 'tensorflow'
    model_version_policy { all {} }
    version_labels { key: 'stable' value: 1764547200 }
    version_labels { key: "canary" value: 1767225600 }
  }
  config <
    name: "other", base_path: "/models/other";
    model_version_policy: { specific { versions: 3 versions: 4 } }
  >
}
"""


def test_model_config_gives_labels_and_policies():
    mine, other = model_entries(CONFIG)
    assert mine.name == "my_model" and mine.policy == "all"
    assert mine.labels == (("stable", "1764547200"), ("canary", "1767225600"))
    assert other.policy == "specific" and other.versions == ("3", "4")


@pytest.mark.parametrize(
    "text",
    [
        "model_config_list {" * 100,  # nested past the bound
        "model_config_list { config { name: 'x' }",  # not closed
        "model_config_list { config { name: 'x\n' } }",  # a string across lines
        "}",  # a closing brace with nothing open
        "name 'x'",  # a scalar without its colon
        "a: [1, 2]",  # lists are not read
        "x" * 5000 + ": 1",  # a name past the bound
        "\x1b[2J: 1",  # escape sequences
        "a" * 300_000,  # over the size bound
    ],
)
def test_hostile_config_is_one_sentence(text):
    with pytest.raises(TextProtoError) as info:
        model_entries(text)
    assert info.value.message == safe_text(info.value.message, 1000)


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("ab:{}<>[]'\"\\# \n01-.,;")), max_size=120))
def test_any_config_text_parses_or_is_refused(text):
    try:
        parse(text)
    except TextProtoError as exc:
        assert exc.message


@pytest.mark.parametrize(
    ("command", "path"),
    [
        ("tensorflow_model_server --port=8500 --model_config_file=/models/models.config", "/models/models.config"),
        (["/usr/bin/tf_serving_entrypoint.sh", "--model_config_file", "/m/c"], "/m/c"),
        ("python3 server.py '--model_config_file=/a b/c'", "/a b/c"),
        ("python3 server.py --model_name=x", ""),
        ("broken 'quote", ""),
        (None, ""),
    ],
)  # fmt: skip
def test_config_path_from_a_command_line(command, path):
    assert config_path(command) == path


# -- a version's state in words ------------------------------------------------------------
def test_state_problem_names_loading_and_failed_versions():
    ok = {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    assert state_problem(ok) == ""
    loading = {"version": "2", "state": "LOADING", "status": {"error_code": "OK"}}
    assert "LOADING" in state_problem(loading) and "not yet AVAILABLE" in state_problem(loading)
    failed = {
        "version": "3",
        "state": "END",
        "status": {"error_code": "NOT_FOUND", "error_message": "Could not find SavedModel .pb"},
    }
    assert (
        state_problem(failed) == "it failed to load (END): NOT_FOUND Could not find SavedModel .pb"
    )
    hostile = {
        "state": "\x1b[31mEND",
        "status": {"error_code": "X", "error_message": "\x1b]0;t\x07"},
    }
    assert "\x1b" not in state_problem(hostile)
    assert state_problem("nope") == "the server gave no state for it"


# -- the reference stack's and the demo's config files -------------------------------------
def test_reference_stack_serves_versions_with_labels_and_metrics():
    import yaml

    from mltui.deploy.stacks import DEMO_DIR, STACKS_DIR

    ref = STACKS_DIR / "tf-serving"
    override = yaml.safe_load((ref / "compose.versions.yml").read_text())
    command = override["services"]["tf_model_serving"]["command"]
    mounts = {
        v.split(":")[1]: v.split(":")[0]
        for v in override["services"]["tf_model_serving"]["volumes"]
    }
    assert config_path(command) == "/models/models.config"
    assert "--monitoring_config_file=/models/monitoring.config" in command
    (entry,) = model_entries((ref / mounts["/models/models.config"]).read_text())
    assert entry.name == "my_model" and entry.policy == "all"
    assert dict(entry.labels) == {"stable": "1", "canary": "2"}
    for folder in (ref / "serving", DEMO_DIR / "model"):
        (prometheus,) = [
            v
            for k, v in parse((folder / "monitoring.config").read_text())
            if k == "prometheus_config"
        ]
        assert dict(prometheus) == {"enable": True, "path": "/monitoring/prometheus/metrics"}


def test_the_latest_that_answers_is_the_highest_available_version():
    served = ServedModel("u", "m", "tfserving", ("30", "20", "10"), "END,AVAILABLE,AVAILABLE")
    assert served.answering == "20"
    assert served.target == "latest (version 20)"
    assert (
        ServedModel("u", "m", "tfserving", ("3",), "AVAILABLE", version="3").target == "version 3"
    )
    labelled = ServedModel("u", "m", "tfserving", ("3",), label="stable", version="3")
    assert labelled.target == "label stable (version 3)"
    assert labelled.predict_url == "u/v1/models/m/labels/stable:predict"
    assert ServedModel("u", "m", "v2", version="2").predict_url == "u/v2/models/m/versions/2/infer"
