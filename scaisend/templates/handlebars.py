"""The Handlebars parser for dynamic templates (D15, docs/templates.md): tag expressions and blocks, into a syntax tree.

A deliberately small Handlebars: ``{{path}}`` (HTML-escaped when rendering HTML), ``{{{path}}}`` and ``{{& path}}``
(raw), dotted and ``../`` / ``this`` / ``@root`` / ``@index`` paths, string, number and boolean literals,
sub-expressions ``(helper arg)``, ``key=value`` hash arguments, blocks ``{{#name …}}…{{else}}…{{/name}}`` with
``{{else if …}}`` chains, Mustache sections ``{{#path}}`` / ``{{^path}}``, comments, ``\\{{`` escapes, ``~``
whitespace control and the standalone-line rule (those last in :mod:`scaisend.templates.tokenizer`). Partials,
decorators, raw blocks and block parameters are refused.

Helper names and argument counts are checked here (against :data:`scaisend.templates.helpers.ARITY`), so a template
with an unknown helper is a syntax error at save time instead of a failed message later. The interpreter lives in
:mod:`scaisend.templates.interpreter`; nothing here runs user code (no ``eval``/``exec``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scaisend.templates.helpers import ARITY, BLOCK_HELPERS, INLINE_HELPERS
from scaisend.templates.syntax import (
    BlockNode,
    Expr,
    HandlebarsError,
    HandlebarsSyntaxError,
    LiteralExpr,
    MustacheNode,
    Node,
    PathExpr,
    Program,
    SubExpr,
    TextNode,
)
from scaisend.templates.tokenizer import Token, tokenize

__all__ = [
    "MAX_DEPTH",
    "MAX_NESTING",
    "MAX_SUBEXPRESSION_DEPTH",
    "HandlebarsError",
    "HandlebarsSyntaxError",
    "Program",
    "parse",
]

MAX_NESTING = 64  # blocks inside blocks; deeper templates are refused
MAX_DEPTH = 128  # blocks and {{else if}} links together (each is a level of the renderer's recursion)
MAX_SUBEXPRESSION_DEPTH = 32  # (helper (helper …)) inside one tag


# --- expressions -----------------------------------------------------------------------------------------------------
_ID = r"[^\s!\"#%&'()*+,./;<=>@\[\\\]^`{|}~]+"
_EXPR_TOKEN = re.compile(
    r"""\s*(?:
      (?P<open>\() | (?P<close>\)) | (?P<pipe>\bas\s+\|)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<number>-?\d+(?:\.\d+)?)(?=[\s)]|$)
    | (?P<key>"""
    + _ID
    + r""")=
    | (?P<path>@?(?:\[[^\]]*\]|[^\s()=\"'\[])+)
    )""",
    re.VERBOSE,
)
_SEGMENT = re.compile(r"\[([^\]]*)\]|(" + _ID + r")")
_KEYWORDS: dict[str, bool | None] = {"true": True, "false": False, "null": None, "undefined": None}


def _parse_path(text: str, source: str, at: int) -> PathExpr:
    data = text.startswith("@")
    body = text[1:] if data else text
    if body in (".", "this") and not data:
        return PathExpr(text, ())
    depth, pos = 0, 0
    parts: list[str] = []
    while body.startswith("../", pos) or body[pos:] == "..":
        depth += 1
        pos += 3
    if body.startswith("./", pos):
        pos += 2
    if data and depth:
        raise HandlebarsSyntaxError(f"unsupported data path {text!r}", source, at)
    while pos < len(body):
        match = _SEGMENT.match(body, pos)
        if match is None:
            raise HandlebarsSyntaxError(f"invalid path {text!r}", source, at)
        literal, name = match.group(1), match.group(2)
        if name == "this" and not parts and not data:
            pass  # this.x / this/x: the current context
        elif name == "this":
            raise HandlebarsSyntaxError(f"invalid path {text!r}", source, at)
        else:
            parts.append(literal if literal is not None else name)
        pos = match.end()
        if pos < len(body):
            if body[pos] not in "./" or pos + 1 == len(body):
                raise HandlebarsSyntaxError(f"invalid path {text!r}", source, at)
            pos += 1
    if data and not parts:
        raise HandlebarsSyntaxError(f"invalid data path {text!r}", source, at)
    return PathExpr(text, tuple(parts), depth, data)


@dataclass(slots=True)
class _ExprParser:
    text: str
    source: str
    at: int
    pos: int = 0

    def tokens(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        end = len(self.text.rstrip())
        while self.pos < end:
            match = _EXPR_TOKEN.match(self.text, self.pos)
            if match is None or match.end() == self.pos:
                raise HandlebarsSyntaxError(f"cannot parse {self.text[self.pos :].strip()!r}", self.source, self.at)
            kind = match.lastgroup or ""
            if kind == "pipe":
                raise HandlebarsSyntaxError("block parameters (as |x|) are not supported", self.source, self.at)
            out.append((kind, match.group(kind)))
            self.pos = match.end()
        return out

    def parse_call(self) -> tuple[Expr, tuple[Expr, ...], tuple[tuple[str, Expr], ...]]:
        tokens = self.tokens()
        head, params, hash_, rest = self._call(tokens, 0, closing=False)
        if rest != len(tokens):
            raise HandlebarsSyntaxError("unexpected ')'", self.source, self.at)
        return head, params, hash_

    def _call(
        self, tokens: list[tuple[str, str]], i: int, closing: bool, depth: int = 0
    ) -> tuple[Expr, tuple[Expr, ...], tuple[tuple[str, Expr], ...], int]:
        if depth > MAX_SUBEXPRESSION_DEPTH:
            raise HandlebarsSyntaxError(
                f"sub-expressions nested deeper than {MAX_SUBEXPRESSION_DEPTH}", self.source, self.at
            )
        if i >= len(tokens):
            raise HandlebarsSyntaxError("missing expression", self.source, self.at)
        head, i = self._value(tokens, i, depth)
        params: list[Expr] = []
        hash_: list[tuple[str, Expr]] = []
        while i < len(tokens) and tokens[i][0] != "close":
            if tokens[i][0] == "key":
                key = tokens[i][1]
                value, i = self._value(tokens, i + 1, depth)
                hash_.append((key, value))
            elif hash_:
                raise HandlebarsSyntaxError("positional argument after key=value", self.source, self.at)
            else:
                value, i = self._value(tokens, i, depth)
                params.append(value)
        if closing:
            if i >= len(tokens):
                raise HandlebarsSyntaxError("unclosed '('", self.source, self.at)
            i += 1
        return head, tuple(params), tuple(hash_), i

    def _value(self, tokens: list[tuple[str, str]], i: int, depth: int) -> tuple[Expr, int]:
        if i >= len(tokens):
            raise HandlebarsSyntaxError("missing value", self.source, self.at)
        kind, text = tokens[i]
        if kind == "string":
            return LiteralExpr(re.sub(r"\\(.)", r"\1", text[1:-1])), i + 1
        if kind == "number":
            return LiteralExpr(float(text) if "." in text else int(text)), i + 1
        if kind == "path":
            if text in _KEYWORDS:
                return LiteralExpr(_KEYWORDS[text]), i + 1
            return _parse_path(text, self.source, self.at), i + 1
        if kind == "open":
            head, params, hash_, i = self._call(tokens, i + 1, closing=True, depth=depth + 1)
            name = head.helper_name if isinstance(head, PathExpr) else None
            if name is None or name not in INLINE_HELPERS:
                shown = head.original if isinstance(head, PathExpr) else "sub-expression"
                raise HandlebarsSyntaxError(f"unknown helper {shown!r} in sub-expression", self.source, self.at)
            _check_arity(name, len(params), self.source, self.at)
            return SubExpr(name, params, hash_), i
        raise HandlebarsSyntaxError(f"unexpected {text!r}", self.source, self.at)


def _check_arity(name: str, count: int, source: str, at: int) -> None:
    low, high = ARITY[name]
    if count < low or (high is not None and count > high):
        wanted = str(low) if low == high else f"{low} or more" if high is None else f"{low} to {high}"
        raise HandlebarsSyntaxError(f"{name} takes {wanted} argument(s), got {count}", source, at)


def _call(content: str, source: str, at: int) -> tuple[PathExpr, tuple[Expr, ...], tuple[tuple[str, Expr], ...]]:
    head, params, hash_ = _ExprParser(content, source, at).parse_call()
    if not isinstance(head, PathExpr):
        raise HandlebarsSyntaxError("a tag must start with a name", source, at)
    return head, params, hash_


def _mustache(token: Token, source: str) -> MustacheNode:
    path, params, hash_ = _call(token.content, source, token.index)
    if params or hash_:
        name = path.helper_name
        if name in BLOCK_HELPERS and name not in INLINE_HELPERS:
            raise HandlebarsSyntaxError(f"{name} is a block helper, write {{{{#{name} …}}}}", source, token.index)
        if name is None or name not in INLINE_HELPERS:
            raise HandlebarsSyntaxError(f"unknown helper {path.original!r}", source, token.index)
        _check_arity(name, len(params), source, token.index)
    return MustacheNode(path, params, hash_, escaped=token.kind == "mustache")


# --- parser ----------------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Open:
    token: Token
    path: PathExpr
    params: tuple[Expr, ...]
    hash: tuple[tuple[str, Expr], ...]
    inverted: bool
    chained: bool = False  # opened by {{else if …}}: closes together with its parent
    program: list[Node] = field(default_factory=list)
    inverse: list[Node] | None = None

    @property
    def current(self) -> list[Node]:
        return self.program if self.inverse is None else self.inverse

    def node(self) -> BlockNode:
        return BlockNode(
            self.path, self.params, self.hash, tuple(self.program), tuple(self.inverse or ()), self.inverted
        )


def _open_block(token: Token, source: str, inverted: bool, chained: bool = False) -> _Open:
    path, params, hash_ = _call(token.content, source, token.index)
    name = path.helper_name
    if name in BLOCK_HELPERS and not inverted:
        _check_arity(name, len(params), source, token.index)
    elif params or hash_:
        raise HandlebarsSyntaxError(f"unknown block helper {path.original!r}", source, token.index)
    return _Open(token, path, params, hash_, inverted, chained)


def parse(source: str) -> Program:
    """Parse a template; :class:`HandlebarsSyntaxError` names the first problem and where it is."""
    root: list[Node] = []
    stack: list[_Open] = []
    for token in tokenize(source):
        target = stack[-1].current if stack else root
        if token.kind == "text":
            if token.content:
                target.append(TextNode(token.content))
        elif token.kind in ("mustache", "raw"):
            target.append(_mustache(token, source))
        elif token.kind in ("open", "inverted"):
            if len(stack) >= MAX_NESTING:
                raise HandlebarsSyntaxError(f"blocks nested deeper than {MAX_NESTING}", source, token.index)
            stack.append(_open_block(token, source, inverted=token.kind == "inverted"))
        elif token.kind == "else":
            _else(stack, token, source)
        elif token.kind == "close":
            _close(stack, root, token, source)
    if stack:
        at = len(stack) - 1
        while stack[at].chained:
            at -= 1
        block = stack[at]
        raise HandlebarsSyntaxError(f"unclosed block {{{{#{block.path.original}}}}}", source, block.token.index)
    return tuple(root)


def _else(stack: list[_Open], token: Token, source: str) -> None:
    if not stack:
        raise HandlebarsSyntaxError("{{else}} outside a block", source, token.index)
    block = stack[-1]
    if block.inverse is not None:
        raise HandlebarsSyntaxError("a second {{else}} in one block", source, token.index)
    block.inverse = []
    if token.content:  # {{else if cond}}: a block inside the inverse that closes with its parent
        if len(stack) >= MAX_DEPTH:
            raise HandlebarsSyntaxError(
                f"blocks and {{{{else if}}}} chains nested deeper than {MAX_DEPTH}", source, token.index
            )
        stack.append(_open_block(token, source, inverted=False, chained=True))


def _close(stack: list[_Open], root: list[Node], token: Token, source: str) -> None:
    if not stack:
        raise HandlebarsSyntaxError(f"{{{{/{token.content}}}}} closes nothing", source, token.index)
    block = stack.pop()
    while block.chained:
        parent = stack.pop()
        parent.current.append(block.node())
        block = parent
    if token.content != block.path.original:
        raise HandlebarsSyntaxError(
            f"{{{{/{token.content}}}}} does not match {{{{#{block.path.original}}}}}", source, token.index
        )
    (stack[-1].current if stack else root).append(block.node())
