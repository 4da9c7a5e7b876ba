"""SendGrid's Handlebars helpers (D15) and the JavaScript-flavoured value rules they share.

Block helpers: ``if``/``else``, ``unless``, ``each`` (``@index``, ``@key``, ``@first``, ``@last``, ``this``), ``with``.
Comparisons, usable as blocks (``{{#equals a b}}…{{else}}…{{/equals}}``) and inside sub-expressions
(``{{#if (greaterThan (length items) 0)}}``): ``equals``, ``notEquals``, ``and``, ``or``, ``greaterThan``,
``lessThan``. Value helpers: ``length``, ``formatDate``, ``insert`` (``{{insert name "default=Customer"}}``).

Truthiness is Handlebars': ``false``, ``null``/missing, ``0``, ``""`` and ``[]`` are false; ``{}`` is true.
Comparisons are loose like JavaScript's ``==``: the number 5 equals the string ``"5"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from scaisend.templates.date_format import format_date


class BlockOptions(Protocol):
    """What a block helper gets from the interpreter: the current context and the two branches."""

    @property
    def context(self) -> Any: ...

    def fn(self, context: Any, data: Mapping[str, Any] | None = None) -> str: ...

    def inverse(self, context: Any) -> str: ...


Params = Sequence[Any]
Hash = Mapping[str, Any]
BlockHelper = Callable[[Params, Hash, BlockOptions], str]
InlineHelper = Callable[[Params, Hash], Any]


# --- value rules -----------------------------------------------------------------------------------------------------
def is_truthy(value: Any) -> bool:
    """Handlebars' ``if``: false, null, 0, NaN, "" and [] are false; everything else (also ``{}``) is true."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str | list | tuple):
        return len(value) > 0
    return True


def is_empty(value: Any) -> bool:
    """Handlebars' ``isEmpty`` (used by ``with``): like not-truthy, except that 0 is not empty."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return False
    return not is_truthy(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            return float(value)
        except ValueError:
            return None
    return None


def loose_equals(left: Any, right: Any) -> bool:
    """JavaScript ``==`` for JSON values: a number and a numeric string compare as numbers."""
    if isinstance(left, str) != isinstance(right, str) and (left is not None and right is not None):
        a, b = _number(left), _number(right)
        return a is not None and b is not None and a == b
    return bool(left == right)


def _compare(left: Any, right: Any) -> int | None:
    """-1, 0 or 1 for numbers (or numeric strings) and for two strings; None when the two do not compare."""
    if isinstance(left, str) and isinstance(right, str) and (_number(left) is None or _number(right) is None):
        return (left > right) - (left < right)
    a, b = _number(left), _number(right)
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return None
    return (a > b) - (a < b)


def to_text(value: Any) -> str:
    """How a value prints: JavaScript's ``String(value)`` for JSON values, with null/missing as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return "NaN" if math.isnan(value) else repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ",".join(to_text(item) for item in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


_HTML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "`": "&#x60;", "=": "&#x3D;"}
)


def escape_html(text: str) -> str:
    """Handlebars' ``escapeExpression``."""
    return text.translate(_HTML_ESCAPES)


# --- predicates (block or sub-expression) ----------------------------------------------------------------------------
PREDICATES: dict[str, Callable[[Params], bool]] = {
    "equals": lambda p: loose_equals(p[0], p[1]),
    "notEquals": lambda p: not loose_equals(p[0], p[1]),
    "and": lambda p: all(is_truthy(v) for v in p),
    "or": lambda p: any(is_truthy(v) for v in p),
    "greaterThan": lambda p: _compare(p[0], p[1]) == 1,
    "lessThan": lambda p: _compare(p[0], p[1]) == -1,
}


def _predicate_block(predicate: Callable[[Params], bool]) -> BlockHelper:
    def helper(params: Params, _hash: Hash, options: BlockOptions) -> str:
        return options.fn(options.context) if predicate(params) else options.inverse(options.context)

    return helper


# --- block helpers ---------------------------------------------------------------------------------------------------
def _if(params: Params, _hash: Hash, options: BlockOptions) -> str:
    return options.fn(options.context) if is_truthy(params[0]) else options.inverse(options.context)


def _unless(params: Params, _hash: Hash, options: BlockOptions) -> str:
    return options.inverse(options.context) if is_truthy(params[0]) else options.fn(options.context)


def _with(params: Params, _hash: Hash, options: BlockOptions) -> str:
    return options.inverse(options.context) if is_empty(params[0]) else options.fn(params[0])


def each_items(value: Any) -> list[tuple[Any, Any]]:
    """(key, item) pairs ``each`` walks: list indexes or object keys; nothing for anything else."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, list | tuple):
        return list(enumerate(value))
    return []


def _each(params: Params, _hash: Hash, options: BlockOptions) -> str:
    items = each_items(params[0])
    if not items:
        return options.inverse(options.context)
    last = len(items) - 1
    return "".join(
        options.fn(item, {"index": i, "key": key, "first": i == 0, "last": i == last})
        for i, (key, item) in enumerate(items)
    )


BLOCK_HELPERS: dict[str, BlockHelper] = {
    "if": _if,
    "unless": _unless,
    "with": _with,
    "each": _each,
    **{name: _predicate_block(predicate) for name, predicate in PREDICATES.items()},
}


# --- value helpers ---------------------------------------------------------------------------------------------------
def _length(params: Params, _hash: Hash) -> int:
    value = params[0]
    return len(value) if isinstance(value, str | list | tuple | Mapping) else 0


def _insert(params: Params, hash_: Hash) -> Any:
    """``{{insert name "default=Customer"}}``: the value, or the default when it is missing or empty.

    The default may also be given bare (``{{insert name "Customer"}}``) or as a hash (``default="Customer"``)."""
    value = params[0]
    if value is not None and value != "":
        return value
    if len(params) > 1:
        return params[1].removeprefix("default=") if isinstance(params[1], str) else params[1]
    return hash_.get("default")


def _format_date(params: Params, _hash: Hash) -> str:
    return format_date(params[0], params[1], params[2] if len(params) > 2 else None)


def _predicate_value(predicate: Callable[[Params], bool]) -> InlineHelper:
    def helper(params: Params, _hash: Hash) -> bool:
        return predicate(params)

    return helper


INLINE_HELPERS: dict[str, InlineHelper] = {
    "length": _length,
    "insert": _insert,
    "formatDate": _format_date,
    **{name: _predicate_value(predicate) for name, predicate in PREDICATES.items()},
}

# (minimum, maximum or None for any number) positional arguments, checked when a template is parsed
ARITY: dict[str, tuple[int, int | None]] = {
    "if": (1, 1),
    "unless": (1, 1),
    "with": (1, 1),
    "each": (1, 1),
    "equals": (2, 2),
    "notEquals": (2, 2),
    "greaterThan": (2, 2),
    "lessThan": (2, 2),
    "and": (2, None),
    "or": (2, None),
    "length": (1, 1),
    "insert": (1, 2),
    "formatDate": (2, 3),
}
