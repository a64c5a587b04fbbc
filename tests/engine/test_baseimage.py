"""Offline images: a recipe's tag follows its content, and a built tag is reused."""

from __future__ import annotations

import time

import pytest
from helpers import docker
from testimages import TEST_BASE

from mltui.deploy.images import BuildError, Recipe, ensure_image, image_exists

pytestmark = pytest.mark.engine


def test_digest_follows_packages_dockerfile_and_context(tmp_path):
    ctx = tmp_path / "app.txt"
    ctx.write_text("one")
    base = Recipe(name="mltui-x", packages=("python3",))
    assert base.tag == Recipe(name="mltui-x", packages=("python3",)).tag
    assert base.tag != Recipe(name="mltui-x", packages=("python3", "curl")).tag
    with_file = Recipe(
        name="mltui-x", dockerfile="COPY app.txt /app.txt", context=(("app.txt", str(ctx)),)
    )
    before = with_file.tag
    ctx.write_text("two")
    assert with_file.tag != before
    assert with_file.tag.startswith("mltui-x:")


def test_derived_image_builds_on_the_cached_base_and_is_reused(test_image, tmp_path):
    ctx = tmp_path / "hello.txt"
    ctx.write_text(f"hello {time.time()}\n")  # a new tag every run: the build really happens
    recipe = Recipe(
        name="mltui-test-derived",
        packages=TEST_BASE.packages,
        cmd=TEST_BASE.cmd,
        dockerfile="COPY hello.txt /hello.txt\nRUN python3 -c 'print(open(\"/hello.txt\").read())' > /seen.txt",
        context=(("hello.txt", str(ctx)),),
    )
    tag = ensure_image(recipe)
    try:
        assert image_exists(tag)
        out = docker("run", "--rm", tag, "cat", "/seen.txt")
        assert out.startswith("hello ")
        # the same recipe again: found by tag, nothing built
        logged: list[str] = []
        assert ensure_image(recipe, logged.append) == tag
        assert logged == []
    finally:
        docker("rmi", "-f", tag, check=False)


def test_failed_build_names_the_step(test_image, tmp_path):
    recipe = Recipe(
        name="mltui-test-broken",
        packages=TEST_BASE.packages,
        cmd=TEST_BASE.cmd,
        dockerfile="RUN exit 7",
    )
    # the build runs its RUN step in a container of the base image (other tests'
    # containers may stop meanwhile: only those of this image count)
    of_base = ("ps", "-aq", "--filter", "status=exited", "--filter", f"ancestor={test_image}")
    stopped = set(docker(*of_base).split())
    with pytest.raises(BuildError) as caught:
        ensure_image(recipe)
    assert caught.value.args[0].startswith(f"build {recipe.tag} failed")
    assert not image_exists(recipe.tag)
    # nothing half-built is left behind: no stopped build container
    assert set(docker(*of_base).split()) <= stopped
