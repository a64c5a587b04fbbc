"""A server's answers read back: the body, bounded in size and time; its JSON
(TF Serving writes NaN and Infinity, which strict JSON has not); and the class
scores of a predict answer, or the one-line reason there are none.

An answer is untrusted input. Whatever its shape (nested a thousand deep, numbers
past a float's range, a claimed shape of millions for a few values, objects where
lists belong), reading it ends in scores or in :class:`AnswerProblem`, and a
server's own words reach a result only through
:func:`~mltui.core.textsafe.safe_text`.
"""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING, Any

from ..textsafe import safe_text
from .signatures import MAX_DIM, looks_like_scores

if TYPE_CHECKING:
    from .protocols import ServedModel

MAX_ANSWER_BYTES = 16 << 20  # a predict answer (scores for a batch)
MAX_STATUS_BYTES = 4 << 20  # a status or metadata answer
MAX_MESSAGE = 300  # characters kept of a server's error message


class AnswerProblem(Exception):
    """An answer with no usable scores; ``kind`` is the short name a result shows."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def read_body(response: Any, limit: int, deadline: float | None = None) -> bytes:
    """The body of a streamed ``requests`` response, at most ``limit`` bytes (after
    any content decoding), read before ``deadline`` (``time.monotonic()``);
    AnswerProblem "too large" or "timeout" otherwise."""
    length = str(response.headers.get("Content-Length") or "").strip()
    if length.isdigit() and (len(length) > 15 or int(length) > limit):
        raise AnswerProblem("too large", f"the answer is over mltui's limit of {limit:,} bytes")
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(64 << 10):
        total += len(chunk)
        if total > limit:
            raise AnswerProblem("too large", f"the answer is over mltui's limit of {limit:,} bytes")
        if deadline is not None and time.monotonic() > deadline:
            raise AnswerProblem("timeout", "the answer did not arrive whole in time")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """The JSON value in ``body``; AnswerProblem "bad answer" when it is none."""
    import orjson

    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:  # NaN, Infinity, numbers past a double's range: the standard parser has them
        return json.loads(body)
    except RecursionError:
        raise AnswerProblem("bad answer", "the answer is nested too deep to read") from None
    except ValueError:  # invalid JSON, bad UTF-8, an integer of thousands of digits
        raise AnswerProblem("bad answer", "the answer is invalid JSON") from None


def decode(
    served: ServedModel, status: int, content_type: str, body: bytes, count: int
) -> list[list[float]]:
    """Class scores per image of a predict answer, or AnswerProblem."""
    return read_scores(served, status, content_type, body, count)[0]


def read_scores(
    served: ServedModel, status: int, content_type: str, body: bytes, count: int
) -> tuple[list[list[float]], str]:
    """Class scores per image of a predict answer, and the name of the output they
    were read from when the answer held several ("" otherwise); or AnswerProblem."""
    text_kind = "html" in content_type.lower() or body.lstrip()[:1] == b"<"
    data: Any = None
    unreadable = ""
    if not text_kind:
        try:
            data = parse_json(body)
        except AnswerProblem as exc:
            unreadable = exc.message
    if status != 200:
        said = safe_text(data["error"], MAX_MESSAGE).strip() if _has_error(data) else ""
        if said:  # an empty "error" says nothing: the status line below does
            raise AnswerProblem(f"server {status}", said)
        if isinstance(data, dict) and isinstance(data.get("detail"), list):
            raise AnswerProblem(f"server {status}", _detail(data["detail"]))
        what = "an HTML error page" if text_kind else "no error message"
        raise AnswerProblem(f"server {status}", f"HTTP {status} with {what}")
    if text_kind:
        raise AnswerProblem("bad answer", "the answer is an HTML page, not JSON predictions")
    if unreadable:
        raise AnswerProblem("bad answer", f"{unreadable}, not JSON predictions")
    rows, output = _rows(served, data, count)
    if rows is None or len(rows) != count:
        got = "no predictions" if rows is None else f"{len(rows)} predictions"
        raise AnswerProblem("wrong shape", f"{got} for {count} images")
    return [_scores(row) for row in rows], output


def _has_error(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("error"), str)


def _detail(detail: list[Any]) -> str:
    """A 422 answer's ``detail`` list as one line."""
    import orjson

    try:
        text = orjson.dumps(detail).decode()
    except (orjson.JSONEncodeError, TypeError):  # nested too deep, an integer past 64 bits
        return "the server's detail list cannot be shown"
    return safe_text(text, MAX_MESSAGE)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scores(row: Any) -> list[float]:
    """One instance's scores as finite floats, or AnswerProblem."""
    if _number(row):
        row = [row]
    if not isinstance(row, list) or not row or not all(_number(v) for v in row):
        raise AnswerProblem("wrong shape", "a prediction is not a list of class scores")
    try:
        out = [float(v) for v in row]
    except OverflowError:  # an integer of hundreds of digits
        raise AnswerProblem("bad answer", "a score is a number too large to read") from None
    if not all(math.isfinite(v) for v in out):
        raise AnswerProblem("NaN in answer", "the scores hold NaN or infinity")
    return out


def _usable(value: Any) -> int:
    """2: a vector with floats (class scores); 1: a vector of integers; 0: neither."""
    if not isinstance(value, list) or not value or not all(_number(v) for v in value):
        return 0
    return 2 if any(isinstance(v, float) for v in value) else 1


def _pick(named: dict[str, Any], preferred: str) -> str:
    """Which of several named outputs (name -> one instance's value) holds the class
    scores: the signature's, one named like probabilities/scores/logits, the first
    float vector, the first integer vector, else the first."""
    names = list(named)
    ranked = [
        *(n for n in names if n == preferred and _usable(named[n])),
        *(n for n in names if looks_like_scores(n) and _usable(named[n])),
        *(n for n in names if _usable(named[n]) == 2),
        *(n for n in names if _usable(named[n]) == 1),
        *names,
    ]
    return ranked[0]


def _rows(served: ServedModel, data: Any, count: int) -> tuple[list[Any] | None, str]:
    if not isinstance(data, dict):
        return None, ""
    if served.protocol == "v2":
        return _v2_rows(served, data, count)
    rows = data.get("predictions", data.get("outputs"))
    output = ""
    if isinstance(rows, dict) and rows:  # column form, several named outputs
        firsts = {k: v[0] if isinstance(v, list) and v else v for k, v in rows.items()}
        key = _pick(firsts, served.signature.output_name)
        output = safe_text(key, 100) if len(rows) > 1 else ""
        rows = rows[key]
    elif isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        # row form of a signature with several outputs: one object an instance
        first: dict[str, Any] = rows[0]
        if not first:
            return None, ""
        key = _pick(first, served.signature.output_name)
        if not all(key in r for r in rows):
            raise AnswerProblem(
                "wrong shape", f"output {safe_text(key, 60)!r} is missing from some predictions"
            )
        output = safe_text(key, 100) if len(first) > 1 else ""
        rows = [r[key] for r in rows]
    return (rows if isinstance(rows, list) else None), output


def _v2_rows(served: ServedModel, data: dict[str, Any], count: int) -> tuple[list[Any] | None, str]:
    outputs = data.get("outputs")
    if not isinstance(outputs, list):
        return None, ""
    named: dict[str, dict[str, Any]] = {}
    for out in outputs:
        if isinstance(out, dict) and isinstance(out.get("name", ""), str):
            named.setdefault(out.get("name", ""), out)
    if not named:
        return None, ""
    values_of = {k: v.get("data") for k, v in named.items()}
    key = _pick(values_of, served.signature.output_name)
    out, output = named[key], (safe_text(key, 100) if len(named) > 1 else "")
    values, shape = out.get("data"), out.get("shape")
    if not isinstance(values, list) or not isinstance(shape, list) or not 1 <= len(shape) <= 8:
        return None, output
    if not all(_number(d) and isinstance(d, int) and 0 <= d < MAX_DIM for d in shape):
        raise AnswerProblem("wrong shape", "the output's shape is not a list of sizes")
    n = shape[0]
    if n != count:
        raise AnswerProblem("wrong shape", f"{n} predictions for {count} images")
    if len(values) == n and all(isinstance(v, list) for v in values):
        return values, output  # nested rows
    total = 1
    for d in shape:
        total *= d
        if total > len(values):
            break
    if total != len(values) or n == 0:
        raise AnswerProblem(
            "wrong shape",
            f"the output claims shape {safe_text(shape, 80)} for {len(values):,} values",
        )
    width = len(values) // n
    return [values[i * width : (i + 1) * width] for i in range(n)], output
