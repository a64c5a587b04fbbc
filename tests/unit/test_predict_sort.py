"""The orders of the predict results: the screen's ctrl+s and `mltui predict --sort`."""

from __future__ import annotations

import pytest

from mltui.core.predict.results import SKIPPED, SORTS, Result, sort_order, sort_results

R = Result
RESULTS = [
    R("b/hit.png", "b", "b", 0.90, [], 30.0),
    R("a/miss.png", "a", "c", 0.60, [], 80.0),
    R("notes.txt", None, error_kind=SKIPPED, error="not an image file"),
    R("a/hit.png", "a", "a", 0.99, [], 10.0),
    R("c/broken.png", "c", error_kind="corrupt image", error="truncated"),
    R("free.png", None, "b", 0.50, [], 50.0),  # no class folder: no hit or miss
]


def names(results) -> list[str]:
    return [r.image for r in results]


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("image", ["a/hit.png", "a/miss.png", "b/hit.png", "c/broken.png", "free.png", "notes.txt"]),
        # failures, misses, then the rest least confident first; skipped files last
        ("problems", ["c/broken.png", "a/miss.png", "free.png", "b/hit.png", "a/hit.png", "notes.txt"]),
        # no confidence (the failure and the skipped file): last, by file
        ("confidence", ["free.png", "a/miss.png", "b/hit.png", "a/hit.png", "c/broken.png", "notes.txt"]),
        ("latency", ["a/miss.png", "free.png", "b/hit.png", "a/hit.png", "c/broken.png", "notes.txt"]),
        ("expected", ["a/hit.png", "a/miss.png", "b/hit.png", "c/broken.png", "free.png", "notes.txt"]),
        ("predicted", ["a/hit.png", "b/hit.png", "free.png", "a/miss.png", "c/broken.png", "notes.txt"]),
    ],
)  # fmt: skip
def test_each_order(by, expected):
    assert names(sort_results(RESULTS, by)) == expected
    assert sorted(sort_order(RESULTS, by)) == list(range(len(RESULTS)))  # each row once


def test_reversed_orders_keep_rows_without_the_value_last():
    assert names(sort_results(RESULTS, "confidence", reverse=True)) == [
        "a/hit.png",
        "b/hit.png",
        "a/miss.png",
        "free.png",
        "c/broken.png",
        "notes.txt",
    ]
    assert names(sort_results(RESULTS, "latency", reverse=True))[-2:] == [
        "c/broken.png",
        "notes.txt",
    ]


def test_every_order_has_a_label_and_sorts_an_empty_list():
    for name, sort in SORTS.items():
        assert sort.label, name
        assert sort_results([], name) == []
