"""Paths shown on screen: shortest readable form that still names the same file."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mltui.core.paths import display_path

CWD = Path("/work/project")
HOME = Path("/home/ada")

segment = st.text(alphabet="abcxyz-_.0", min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..")
)
bases = st.sampled_from(["/work/project", "/work", "/home/ada", "/home/ada/lab", "/etc", "/"])


def opens(shown: str) -> str:
    """Where a shell in CWD, with HOME as its home, would look for ``shown``."""
    expanded = str(HOME) + shown[1:] if shown == "~" or shown.startswith("~/") else shown
    return os.path.normpath(os.path.join(CWD, expanded))


@given(bases, st.lists(segment, max_size=4))
def test_the_shown_path_names_the_same_file_and_is_never_longer(base, parts):
    path = os.path.join(base, *parts)
    shown = display_path(path, CWD, HOME)
    assert opens(shown) == os.path.normpath(path)
    assert len(shown) <= len(path)


def test_the_forms_a_person_expects():
    assert (
        display_path("/work/project/stacks/demo/test-images", CWD, HOME)
        == "stacks/demo/test-images"
    )
    assert display_path("/home/ada/data/digits", CWD, HOME) == "~/data/digits"
    assert display_path("/work/project", CWD, HOME) == "."
    assert display_path("/etc/hosts", CWD, HOME) == "/etc/hosts"
    # a relative path is already what the user typed
    assert display_path("images", CWD, HOME) == "images"
