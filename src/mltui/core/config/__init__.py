"""mltui's configuration file: TOML in the XDG config folder.

Every value is checked. A bad value gives one :class:`Problem` naming the key and
its line, and the default is used instead: a broken file never stops mltui.

One module per concern: :mod:`.model` (the typed values and a problem),
:mod:`.file` (where the file is, reading and parsing it), :mod:`.locate` (the
line of each key, for messages) and :mod:`.checks` (each value's rules). What
the rest of mltui imports is re-exported here.
"""

from __future__ import annotations

from .checks import KEY_NAME
from .file import ENV_PATH, EXAMPLE, MAX_BYTES, config_path, load, parse
from .locate import locate
from .model import Config, Endpoint, EngineConfig, LogsConfig, PredictConfig, Problem

__all__ = [
    "ENV_PATH",
    "EXAMPLE",
    "KEY_NAME",
    "MAX_BYTES",
    "Config",
    "Endpoint",
    "EngineConfig",
    "LogsConfig",
    "PredictConfig",
    "Problem",
    "config_path",
    "load",
    "locate",
    "parse",
]
