"""The vocabulary of dynamic templates (D15): the engine's errors and the syntax tree the parser builds
(:mod:`scaisend.templates.handlebars`) and the interpreter walks (:mod:`scaisend.templates.interpreter`)."""

from __future__ import annotations

from dataclasses import dataclass


class HandlebarsError(Exception):
    """Base of the engine's errors; the message says what went wrong."""


class HandlebarsSyntaxError(HandlebarsError):
    def __init__(self, message: str, source: str, index: int) -> None:
        line = source.count("\n", 0, index) + 1
        column = index - (source.rfind("\n", 0, index) + 1) + 1
        super().__init__(f"{message} at line {line}, column {column}")
        self.line = line
        self.column = column


# --- syntax tree -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PathExpr:
    original: str
    parts: tuple[str, ...]  # segments after this / ../ / @
    depth: int = 0  # how many ../
    data: bool = False  # an @-variable (@index, @key, @first, @last, @root)

    @property
    def helper_name(self) -> str | None:
        """The name this path would have as a helper (a single plain identifier), else None."""
        if self.data or self.depth or len(self.parts) != 1 or self.original in ("this", ".") or "[" in self.original:
            return None
        return self.parts[0]


@dataclass(frozen=True, slots=True)
class LiteralExpr:
    value: str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class SubExpr:
    name: str
    params: tuple[Expr, ...]
    hash: tuple[tuple[str, Expr], ...]


Expr = PathExpr | LiteralExpr | SubExpr


@dataclass(frozen=True, slots=True)
class TextNode:
    text: str


@dataclass(frozen=True, slots=True)
class MustacheNode:
    path: PathExpr
    params: tuple[Expr, ...]
    hash: tuple[tuple[str, Expr], ...]
    escaped: bool


@dataclass(frozen=True, slots=True)
class BlockNode:
    path: PathExpr
    params: tuple[Expr, ...]
    hash: tuple[tuple[str, Expr], ...]
    program: tuple[Node, ...]
    inverse: tuple[Node, ...]
    inverted: bool = False  # {{^path}}: render the body when the value is empty


Node = TextNode | MustacheNode | BlockNode
Program = tuple[Node, ...]
