"""Paths as a person reads them: relative to the current folder, or under ``~``,
whichever is shorter, so screens (and screenshots) do not show a machine's layout."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(
    path: str | os.PathLike[str], cwd: Path | None = None, home: Path | None = None
) -> str:
    """The shortest of ``path`` as given (absolute), relative to ``cwd`` when it lies
    under it, and ``~/...`` when it lies under ``home``. Each form opens the same
    file from ``cwd`` (``~`` after ``expanduser``)."""
    target = Path(path)
    if not target.is_absolute():
        return str(target)
    forms = [str(target)]
    for base, prefix in ((cwd or Path.cwd(), ""), (home or Path.home(), "~")):
        try:
            rest = target.relative_to(base)
        except ValueError:
            continue
        if prefix:
            forms.append(str(Path(prefix) / rest) if str(rest) != "." else prefix)
        else:
            forms.append(str(rest))
    return min(forms, key=len)
