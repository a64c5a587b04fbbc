"""Request JSON as TensorFlow Serving reads it, and its error sentences.

What tensorflow_serving/util/json_tensor.cc does for a DT_FLOAT signature of one
input: parse (rapidjson's sentences and byte offsets), quote a value in an error
(JsonValueToDebugString), and turn the row ("instances") or column ("inputs") form
into one dense tensor, refusing what TF Serving refuses with its words.
"""

from __future__ import annotations

import json

import numpy as np


class ServingError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# rapidjson's GetParseError_En sentences for what Python's json reports
PARSE_ERRORS = (
    ("Expecting property name", "Missing a name for object member."),
    ("Expecting ':' delimiter", "Missing a colon after a name of object member."),
    ("Unterminated string", "Missing a closing quotation mark in string."),
    ("Invalid \\uXXXX escape", "Incorrect hex digit after \\u escape in string."),
    ("Invalid \\escape", "Invalid escape character in string."),
    ("Invalid control character", "Invalid encoding in string."),
)


def parse_error(text: str, exc: json.JSONDecodeError) -> str:
    """A JSON syntax error as rapidjson words it, at its byte offset."""
    offset = len(text[: exc.pos].encode("utf-8", "surrogateescape"))
    if not text.strip():
        return f"JSON Parse error: The document is empty. at offset: {offset}"
    sentence = "Invalid value."
    if exc.msg.startswith("Expecting ',' delimiter"):
        inside = _open_bracket(text, exc.pos)
        sentence = (
            "Missing a comma or '}' after an object member."
            if inside == "{"
            else "Missing a comma or ']' after an array element."
        )
    for start, words in PARSE_ERRORS:
        if exc.msg.startswith(start):
            sentence = words
    return f"JSON Parse error: {sentence} at offset: {offset}"


def _open_bracket(text: str, pos: int) -> str:
    """The innermost bracket still open at ``pos`` (strings skipped)."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def debug_json(value: object, level: int = 0) -> str:
    """JsonValueToDebugString: rapidjson's PrettyWriter with single-line arrays
    (4-space indented objects), cut near 256 bytes."""
    text = _pretty(value, level)
    return text[:256]


def _pretty(value: object, level: int) -> str:
    pad = "    "
    if isinstance(value, dict):
        if not value:
            return "{}"
        members = [
            f"{pad * (level + 1)}{json.dumps(k, ensure_ascii=False)}: {_pretty(v, level + 1)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(members) + "\n" + pad * level + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_pretty(v, level) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def json_type(value: object) -> str:
    """JsonTypeString: rapidjson's name of a value's type."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return "Number"
    return {dict: "Object", list: "Array", str: "String"}.get(type(value), "Object")


def is_b64(value: object) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def dense_shape(value: object) -> list[int]:
    """GetDenseTensorShape: the shape the first element of every list implies."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def fill(value: object, level: int, shape: list[int], out: list[float]) -> None:
    """FillTensorProto for a DT_FLOAT input: the numbers of ``value`` in order,
    or a ServingError with TF Serving's sentence."""
    rank = len(shape)
    if not isinstance(value, list):
        if level != rank:
            raise ServingError(
                400,
                f"JSON Value: {debug_json(value)} found at incorrect level: {level + 1} "
                f"in the JSON DOM. Expected at level: {rank}",
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ServingError(
                400,
                f"JSON Value: {debug_json(value)} Type: {json_type(value)} "
                "is not of expected type: float",
            )
        out.append(float(value))
        return
    if level >= rank:
        raise ServingError(400, f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(value) != shape[level]:
        raise ServingError(
            400,
            f"Encountered list at unexpected size: {len(value)} at level: {level} "
            f"expected size: {shape[level]}",
        )
    for item in value:
        fill(item, level + 1, shape, out)


def as_tensor(value: object, exact: bool) -> tuple[list[int], np.ndarray]:
    """The shape and the flat float64 numbers of ``value``. numpy reads a dense
    list of numbers in C; what it refuses or might bend (a ragged list, a string, a
    bool it would read as 0 or 1: ``exact``) is walked the way TF Serving walks it."""
    if not exact:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            array = None
        if array is not None and array.dtype.kind in "if" and array.size:
            return list(array.shape), array.astype(np.float64).reshape(-1)
    shape, numbers = dense_shape(value), []
    fill(value, 0, shape, numbers)
    return shape, np.asarray(numbers, dtype=np.float64)


def rows_tensor(request: dict, input_name: str, exact: bool) -> np.ndarray:
    """FillTensorMapFromInstancesList, for a signature of one input."""
    rows = request["instances"]
    objects = isinstance(rows[0], dict) and not is_b64(rows[0])
    first: tuple[int, list[int]] | None = None
    arrays: list[np.ndarray] = []
    for i, row in enumerate(rows):
        if objects:
            if not isinstance(row, dict) or is_b64(row):
                raise ServingError(400, f"Expecting object but got list at item {i} of input list")
            for key in row:
                if key != input_name:
                    raise ServingError(
                        400,
                        f"Failed to process element: {i} key: {key} of 'instances' list. "
                        f"Error: INVALID_ARGUMENT: JSON object: does not have named input: {key}",
                    )
            if set(row) != {input_name}:
                raise ServingError(
                    400,
                    f"Failed to process element: {i} of 'instances' list. JSON object: "
                    f"{debug_json(row)} keys must be equal to: {input_name}",
                )
            row = row[input_name]
        elif isinstance(row, dict) and not is_b64(row):
            raise ServingError(
                400, f"Expecting value/list but got object at item {i} of input list"
            )
        try:
            shape, values = as_tensor(row, exact)
            if first is None:
                first = (len(values), shape)
            elif first[0] != len(values):
                raise ServingError(400, f"Expecting tensor size: {first[0]} but got: {len(values)}")
            elif first[1] != shape:
                raise ServingError(
                    400,
                    f"Expecting shape [{','.join(map(str, first[1]))}] but got: "
                    f"[{','.join(map(str, shape))}]",
                )
        except ServingError as exc:
            where = f"{i} key: {input_name}" if objects else str(i)
            raise ServingError(
                400,
                f"Failed to process element: {where} of 'instances' list. "
                f"Error: INVALID_ARGUMENT: {exc.message}",
            ) from None
        arrays.append(values)
    assert first is not None
    return np.concatenate(arrays).reshape([len(rows), *first[1]])


def columns_tensor(request: dict, input_name: str, exact: bool) -> np.ndarray:
    """FillTensorMapFromInputsMap, for a signature of one input."""
    value = request["inputs"]
    if isinstance(value, dict) and not is_b64(value):
        if input_name not in value:
            raise ServingError(400, f"Missing named input: {input_name} in 'inputs' object.")
        value = value[input_name]
    shape, numbers = as_tensor(value, exact)
    return numbers.reshape(shape)
