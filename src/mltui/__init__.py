"""mltui: a terminal dashboard for machine-learning container stacks."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # the version is written once, in pyproject.toml; read from the installed
    # package's metadata only when asked (importlib.metadata costs start-up time)
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("mltui")
        except PackageNotFoundError:  # run from a source tree that was never installed
            return "unknown (not installed)"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
