"""JSON with comments (JSONC), read with the position of every value, and edited as text.

Hosts' config files are the user's: an edit replaces, inserts or removes the text of one member of
one object and leaves every other character, comment and trailing comma where it was. Python's
`json` cannot say where a value is, and the JSONC libraries on PyPI either drop comments on
writing or are young native bindings; this tokenizer is small, and every edit is checked by
parsing its result again (see `config_edit`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_PUNCTUATION = "{}[]:,"


class JsoncError(ValueError):
    """The text is not JSON with comments; `line` and `column` are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Token:
    kind: str  # one of "{}[]:," or "string" or "scalar"
    start: int
    end: int


@dataclass
class Member:
    """`"key": value` in an object; `comma` is the index of the comma after it, if one follows."""

    key: str
    key_start: int
    node: Node
    comma: int | None


@dataclass
class Node:
    """A value and the span of its text, `text[start:end]`; objects list their members in order."""

    start: int
    end: int
    value: Any
    members: list[Member] = field(default_factory=list)

    def member(self, key: str) -> Member | None:
        found = [m for m in self.members if m.key == key]
        return found[-1] if found else None  # as JSON.parse: the last of duplicates wins


def parse(text: str) -> Node:
    """The document's value with positions; comments and trailing commas allowed, as VS Code allows them."""
    return _Parser(text).document()


def position(text: str, index: int) -> tuple[int, int]:
    """Line and column, 1-based, of `text[index]`."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in " \t\r\n\ufeff":
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise JsoncError("a /* comment is never closed", *position(text, i))
            i = end + 2
        elif char in _PUNCTUATION:
            tokens.append(Token(char, i, i + 1))
            i += 1
        else:
            match = (_STRING if char == '"' else _SCALAR).match(text, i)
            if match is None:
                what = "a string is not closed, or holds a raw control character" if char == '"' else f"{char!r}"
                raise JsoncError(f"unexpected {what}", *position(text, i))
            tokens.append(Token("string" if char == '"' else "scalar", i, match.end()))
            i = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0

    def document(self) -> Node:
        node = self.value()
        if self.at < len(self.tokens):
            raise self.error(self.tokens[self.at], "more text after the end of the document")
        return node

    def value(self) -> Node:
        token = self.next("a value")
        if token.kind == "{":
            return self.object(token)
        if token.kind == "[":
            return self.array(token)
        if token.kind in ("string", "scalar"):
            return Node(token.start, token.end, json.loads(self.text[token.start : token.end]))
        raise self.error(token, f"expected a value, found {token.kind!r}")

    def object(self, opening: Token) -> Node:
        node = Node(opening.start, opening.end, {})
        token = self.next("a key or '}'")
        while token.kind != "}":
            if token.kind != "string":
                raise self.error(token, "expected a key in double quotes, or '}'")
            key = json.loads(self.text[token.start : token.end])
            if self.next("':'").kind != ":":
                raise self.error(self.tokens[self.at - 1], f"expected ':' after the key {key!r}")
            value = self.value()
            after = self.next("',' or '}'")
            if after.kind not in ",}":
                raise self.error(after, "expected ',' or '}' (is a comma missing?)")
            node.members.append(Member(key, token.start, value, after.start if after.kind == "," else None))
            node.value[key] = value.value
            token = self.next("a key or '}'") if after.kind == "," else after
        node.end = token.end
        return node

    def array(self, opening: Token) -> Node:
        node = Node(opening.start, opening.end, [])
        while True:
            if self.peek() == "]":
                break
            node.value.append(self.value().value)
            if self.peek() != ",":
                break
            self.at += 1
        closing = self.next("']'")
        if closing.kind != "]":
            raise self.error(closing, "expected ',' or ']' (is a comma missing?)")
        node.end = closing.end
        return node

    def next(self, expected: str) -> Token:
        if self.at >= len(self.tokens):
            raise JsoncError(f"the document ends where {expected} was expected", *position(self.text, len(self.text)))
        self.at += 1
        return self.tokens[self.at - 1]

    def peek(self) -> str | None:
        return self.tokens[self.at].kind if self.at < len(self.tokens) else None

    def error(self, token: Token, message: str) -> JsoncError:
        return JsoncError(message, *position(self.text, token.start))
