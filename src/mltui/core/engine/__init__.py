"""The one Docker Engine client of mltui, and what it hands back.

One concern per module:

- :mod:`.errors`: :class:`EngineError`, :class:`EngineUnavailable` and the
  sentence for "nothing answers" (:func:`unavailable_message`);
- :mod:`.target`: where the engine is (:func:`resolve_target`, :class:`EngineTarget`);
- :mod:`.info`: :class:`EngineInfo`, what the header shows;
- :mod:`.unix_json`: the standard-library reads over the local socket (launch path);
- :mod:`.streams`: :class:`RawStream` (log bodies) and :class:`EventStream`;
- :mod:`.client`: :class:`Engine`, through which every call goes;
- :mod:`.backoff`: :class:`Backoff`, the reconnect delays.

Importing this package does not import docker-py: that waits for the first
call that needs it (a stream, an exec, a remote engine).
"""

from .backoff import Backoff
from .client import Engine
from .errors import EngineError, EngineUnavailable, unavailable_message
from .info import EngineInfo
from .streams import EventStream, RawStream
from .target import DEFAULT_SOCKET, EngineTarget, _points_elsewhere, resolve_target

__all__ = [
    "DEFAULT_SOCKET",
    "Backoff",
    "Engine",
    "EngineError",
    "EngineInfo",
    "EngineTarget",
    "EngineUnavailable",
    "EventStream",
    "RawStream",
    "_points_elsewhere",  # tests/unit/test_import_hygiene.py checks the rule itself
    "resolve_target",
    "unavailable_message",
]
