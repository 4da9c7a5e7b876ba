"""A small reader of Grafana Alloy configuration syntax (no Alloy binary here), enough to check the generated
``config.alloy`` files: blocks (``name "label" { … }``), attributes (``key = value``), strings, numbers, booleans,
lists, objects, references to component exports and function calls. It fails on anything else."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(?P<comment>//[^\n]*)|(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)'
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|(?P<punct>[{}\[\]=,()]))"
)


@dataclass(frozen=True)
class Reference:
    path: str


@dataclass
class Block:
    name: str
    label: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, name: str) -> list[Block]:
        return [b for b in self.blocks if b.name == name]


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"unexpected text at {text[position : position + 30]!r}")
        position = match.end()
        kind = match.lastgroup or ""
        if kind != "comment":
            tokens.append((kind, match.group(kind)))
    return tokens


class _Reader:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token_kind, token = self.peek()
        if (value is not None and token != value) or (kind is not None and token_kind != kind):
            raise ValueError(f"expected {value or kind}, found {token!r}")
        self.at += 1
        return token

    def body(self, block: Block, closing: str | None) -> Block:
        while self.peek()[1] != (closing or "") and self.peek()[0] != "end":
            name = self.take(kind="ident")
            if self.peek()[1] == "=":
                self.take("=")
                if name in block.attributes:
                    raise ValueError(f"attribute {name} set twice")
                block.attributes[name] = self.value()
                continue
            label = json.loads(self.take(kind="string")) if self.peek()[0] == "string" else None
            self.take("{")
            block.blocks.append(self.body(Block(name, label), "}"))
            self.take("}")
        return block

    def value(self) -> Any:
        kind, token = self.peek()
        if kind == "string":
            self.at += 1
            return json.loads(token)
        if kind == "number":
            self.at += 1
            return float(token) if "." in token else int(token)
        if token in ("true", "false"):
            self.at += 1
            return token == "true"
        if token == "[":
            self.take("[")
            items = []
            while self.peek()[1] != "]":
                items.append(self.value())
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("]")
            return items
        if token == "{":
            self.take("{")
            entries = {}
            while self.peek()[1] != "}":
                key = self.take(kind="ident")
                self.take("=")
                entries[key] = self.value()
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("}")
            return entries
        if kind == "ident":
            self.at += 1
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                while self.peek()[1] != ")":
                    args.append(self.value())
                    if self.peek()[1] == ",":
                        self.take(",")
                self.take(")")
                return ("call", token, args)
            return Reference(token)
        raise ValueError(f"unexpected {token!r}")


def parse(text: str) -> Block:
    """The configuration as a root block holding the components."""
    reader = _Reader(text)
    root = reader.body(Block("", None), None)
    if reader.peek()[0] != "end":
        raise ValueError(f"unexpected {reader.peek()[1]!r} at the top level")
    return root


def references(value: Any) -> list[str]:
    if isinstance(value, Reference):
        return [value.path]
    if isinstance(value, list):
        return [r for item in value for r in references(item)]
    if isinstance(value, dict):
        return [r for item in value.values() for r in references(item)]
    return []


def all_references(block: Block) -> list[str]:
    found = [r for value in block.attributes.values() for r in references(value)]
    return found + [r for child in block.blocks for r in all_references(child)]
