"""Logs of one replica or of a whole service, merged across replicas in time order.

One module per concern:

- :mod:`.sources`: which replicas have logs (:class:`LogSource`, :func:`sources_of`,
  :func:`find_service`);
- :mod:`.reader`: one reader per replica, history then follow, across reconnects
  (:class:`SourceReader`, :func:`read_recent`);
- :mod:`.session`: the merging session the screen and ``mltui logs`` take from
  (:class:`LogSession`);
- :mod:`.logtime`: timestamps, ``--since``, merge order;
- :mod:`.lines`: how lines are stored (text + a packed *origin*: replica and
  stream) and read back (:class:`LogLine`, :class:`LogBuffer`, :class:`LogChunk`);
- :mod:`.format`: the one formatter of lines (:class:`LineFormatter`) for the
  screen, saved files and ``mltui logs``.

The wire (chunking, multiplexing, sanitising) is :mod:`mltui.core.logstream`.
"""

from __future__ import annotations

from .format import PALETTE, LineFormatter, LineParts, colour_of
from .lines import (
    DEFAULT_MAX_LINES,
    NOTE,
    LogBuffer,
    LogChunk,
    LogLine,
    Stream,
    line_text,
    line_time,
    origin_replica,
    origin_stream,
    pack_origin,
    plain_text,
)
from .logtime import local_clock, merge_runs, parse_since, ts_to_unix, unix_to_ts
from .reader import SourceReader, read_recent
from .session import LogSession
from .sources import LogSource, find_service, replica_tag, sources_of

__all__ = [
    "DEFAULT_MAX_LINES",
    "NOTE",
    "PALETTE",
    "LineFormatter",
    "LineParts",
    "LogBuffer",
    "LogChunk",
    "LogLine",
    "LogSession",
    "LogSource",
    "SourceReader",
    "Stream",
    "colour_of",
    "find_service",
    "line_text",
    "line_time",
    "local_clock",
    "merge_runs",
    "origin_replica",
    "origin_stream",
    "pack_origin",
    "parse_since",
    "plain_text",
    "read_recent",
    "replica_tag",
    "sources_of",
    "ts_to_unix",
    "unix_to_ts",
]
