"""Renders a parsed Handlebars program (:mod:`scaisend.templates.handlebars`) against JSON data (D15, docs/templates.md).

Context and data frames work as in Handlebars 4: ``each`` and ``with`` (and Mustache sections over objects) push a
new context that ``../`` climbs out of; ``if`` and the comparisons do not. Names are looked up in the current context
only (use ``../name`` or ``@root.name`` to reach outwards); a missing value renders as the empty string.

Every render has a budget (:data:`MAX_OUTPUT_CHARS`, :data:`MAX_STEPS`) so a template looping over its own data
cannot run away with a worker; going over it raises :class:`HandlebarsRuntimeError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scaisend.templates.helpers import (
    BLOCK_HELPERS,
    INLINE_HELPERS,
    each_items,
    escape_html,
    is_truthy,
    to_text,
)
from scaisend.templates.syntax import (
    BlockNode,
    Expr,
    HandlebarsError,
    LiteralExpr,
    MustacheNode,
    Node,
    PathExpr,
    Program,
    TextNode,
)

MAX_OUTPUT_CHARS = 10_000_000  # per rendered part
MAX_STEPS = 1_000_000  # block bodies and nodes evaluated per rendered part


class HandlebarsRuntimeError(HandlebarsError):
    """The template could not be rendered with this data."""


@dataclass(frozen=True, slots=True)
class _Frame:
    context: Any
    data: Mapping[str, Any]
    parent: _Frame | None  # the enclosing context, for ../


def _member(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(name)
    if isinstance(value, list | tuple | str):
        if name == "length":
            return len(value)
        if name.isdigit() and int(name) < len(value) and not isinstance(value, str):
            return value[int(name)]
    return None


class _Render:
    def __init__(self, root: Any, escape: bool) -> None:
        self.root = root
        self.escape = escape
        self.steps = 0
        self.chars = 0

    # --- expressions -------------------------------------------------------------------------------------------------
    def lookup(self, path: PathExpr, frame: _Frame) -> Any:
        parts = path.parts
        if path.data:
            value = self.root if parts[0] == "root" else frame.data.get(parts[0])
            parts = parts[1:]
        else:
            target = frame
            for _ in range(path.depth):
                target = target.parent or target
            value = target.context
        for part in parts:
            if value is None:
                return None
            value = _member(value, part)
        return value

    def value(self, expr: Expr, frame: _Frame) -> Any:
        if isinstance(expr, LiteralExpr):
            return expr.value
        if isinstance(expr, PathExpr):
            return self.lookup(expr, frame)
        return self.call(expr.name, expr.params, expr.hash, frame)

    def call(self, name: str, params: tuple[Expr, ...], hash_: tuple[tuple[str, Expr], ...], frame: _Frame) -> Any:
        args = [self.value(p, frame) for p in params]
        return INLINE_HELPERS[name](args, {k: self.value(v, frame) for k, v in hash_})

    # --- statements --------------------------------------------------------------------------------------------------
    def program(self, nodes: Program, frame: _Frame) -> str:
        """Render a block body; each body and each node in it costs one step (empty loops are not free)."""
        self.steps += 1 + len(nodes)
        if self.steps > MAX_STEPS:
            raise HandlebarsRuntimeError(f"rendering took more than {MAX_STEPS} steps")
        return "".join([self.node(node, frame) for node in nodes])

    def node(self, node: Node, frame: _Frame) -> str:
        if isinstance(node, TextNode):
            return self.emit(node.text)
        if isinstance(node, MustacheNode):
            return self.mustache(node, frame)
        return self.block(node, frame)

    def emit(self, text: str) -> str:
        self.chars += len(text)
        if self.chars > MAX_OUTPUT_CHARS:
            raise HandlebarsRuntimeError(f"rendered output is longer than {MAX_OUTPUT_CHARS} characters")
        return text

    def mustache(self, node: MustacheNode, frame: _Frame) -> str:
        if node.params or node.hash:
            name = node.path.helper_name
            assert name is not None  # the parser only lets known helpers take arguments
            value = self.call(name, node.params, node.hash, frame)
        else:
            value = self.lookup(node.path, frame)
        text = to_text(value)
        return self.emit(escape_html(text) if node.escaped and self.escape else text)

    def block(self, node: BlockNode, frame: _Frame) -> str:
        options = _Options(self, node, frame)
        name = node.path.helper_name
        if name in BLOCK_HELPERS and not node.inverted:
            params = [self.value(p, frame) for p in node.params]
            return BLOCK_HELPERS[name](params, {k: self.value(v, frame) for k, v in node.hash}, options)
        value = self.lookup(node.path, frame)
        if node.inverted:  # {{^path}}…{{/path}}: the body renders when the value is empty
            return options.inverse(frame.context) if is_truthy(value) else options.fn(frame.context)
        return self.section(value, options, frame)

    def section(self, value: Any, options: _Options, frame: _Frame) -> str:
        """A Mustache section ``{{#path}}`` (Handlebars' blockHelperMissing)."""
        if value is True:
            return options.fn(frame.context)
        if not is_truthy(value):
            return options.inverse(frame.context)
        if isinstance(value, list | tuple):
            last = len(value) - 1
            return "".join(
                options.fn(item, {"index": i, "key": i, "first": i == 0, "last": i == last})
                for i, item in each_items(value)
            )
        return options.fn(value)


class _Options:
    """The :class:`~scaisend.templates.helpers.BlockOptions` a block helper receives."""

    __slots__ = ("_frame", "_node", "_render")

    def __init__(self, render: _Render, node: BlockNode, frame: _Frame) -> None:
        self._render = render
        self._node = node
        self._frame = frame

    @property
    def context(self) -> Any:
        return self._frame.context

    def fn(self, context: Any, data: Mapping[str, Any] | None = None) -> str:
        frame = self._frame
        merged = {**frame.data, **data} if data else frame.data
        if context is not frame.context:
            frame = _Frame(context, merged, frame)
        elif data:
            frame = _Frame(context, merged, frame.parent)
        return self._render.program(self._node.program, frame)

    def inverse(self, context: Any) -> str:
        frame = self._frame if context is self._frame.context else _Frame(context, self._frame.data, self._frame)
        return self._render.program(self._node.inverse, frame)


def render(program: Program, data: Any, *, escape: bool) -> str:
    """``program`` rendered with ``data`` as the root context; ``escape`` HTML-escapes ``{{…}}`` (not ``{{{…}}}``)."""
    state = _Render(data, escape)
    return state.program(program, _Frame(data, {}, None))
