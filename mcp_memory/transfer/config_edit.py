"""Add, replace or remove one MCP server entry in a host's config text: JSON, JSONC or TOML.

Every other setting, server, comment and blank line stays as it was: JSON and JSONC are edited as
text around the one member (see `jsonc`), TOML through tomlkit, which keeps comments and layout.
Each result is parsed again and compared with what was meant, so an edit that would change
anything else is refused rather than written. A file that cannot be parsed is refused with its
line, never rewritten.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomlkit
import tomlkit.exceptions
from tomlkit.items import InlineTable, Table

from mcp_memory.core.errors import InvalidInput, MemoryServerError
from mcp_memory.transfer import jsonc

Format = Literal["json", "jsonc", "toml"]


@dataclass(frozen=True)
class ServersTable:
    """The table of MCP servers (`key`: mcpServers, servers, mcp_servers) in one config file's text."""

    origin: Path  # the file, for messages
    format: Format
    key: str
    text: str

    def entry(self, name: str) -> Any | None:
        """The entry named `name`, as the host reads it, or None."""
        return self._servers(self._load(self.text)).get(name)

    def put(self, name: str, entry: dict[str, Any]) -> str:
        """The text with `name` set to `entry`, added or replacing the one there."""
        expected = self._load(self.text)
        self._servers(expected)
        expected.setdefault(self.key, {})[name] = entry
        if self.format == "toml":
            return self._checked(_toml_put(self.text, self.key, name, entry), expected)
        text = self.text if self.text.strip() else "{}\n"
        return self._checked(_json_put(text, (self.key, name), entry), expected)

    def drop(self, name: str) -> str:
        """The text without the entry `name` (unchanged when there is none)."""
        expected = self._load(self.text)
        if self._servers(expected).pop(name, None) is None:
            return self.text
        if self.format == "toml":
            return self._checked(_toml_drop(self.text, self.key, name), expected)
        return self._checked(_json_drop(self.text, (self.key, name)), expected)

    def _load(self, text: str) -> dict[str, Any]:
        try:
            if self.format == "toml":
                document: Any = tomllib.loads(text)
            elif not text.strip():
                document = {}
            elif self.format == "json":
                document = json.loads(text)
            else:
                document = jsonc.parse(text).value
        except json.JSONDecodeError as exc:
            raise self._unreadable(f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
        except (tomllib.TOMLDecodeError, jsonc.JsoncError) as exc:
            raise self._unreadable(str(exc)) from exc
        if not isinstance(document, dict):
            raise self._unreadable("the document is not an object")
        return document

    def _servers(self, document: dict[str, Any]) -> dict[str, Any]:
        servers = document.get(self.key, {})
        if not isinstance(servers, dict):
            raise self._unreadable(f"{self.key!r} is not an object of servers")
        return servers

    def _unreadable(self, problem: str) -> InvalidInput:
        return InvalidInput(f"cannot read {self.origin}: {problem}. Fix the file (it was left as it was) and run again")

    def _checked(self, text: str, expected: dict[str, Any]) -> str:
        try:
            same = _without_empty(self._load(text), self.key) == _without_empty(expected, self.key)
        except InvalidInput:
            same = False
        if not same:
            raise MemoryServerError(
                f"could not edit {self.origin} without changing other settings; it was left as it was. "
                f"Add the entry by hand under {self.key!r}"
            )
        return text


def _without_empty(document: dict[str, Any], key: str) -> dict[str, Any]:
    # An emptied servers table may stay (JSON) or vanish (TOML); either way it says nothing.
    return {k: v for k, v in document.items() if not (k == key and v == {})}


def _toml_put(text: str, key: str, name: str, entry: dict[str, Any]) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    document = _toml_parse(text)
    servers = document.get(key)
    if servers is None:
        servers = tomlkit.table(is_super_table=True)
        if document.body:
            document.add(tomlkit.nl())
        document[key] = servers
    table: InlineTable | Table = tomlkit.inline_table() if isinstance(servers, InlineTable) else tomlkit.table()
    table.update(entry)
    if isinstance(table, Table):
        table.add(tomlkit.nl())  # a blank line before whatever table follows
    servers[name] = table
    result = tomlkit.dumps(document)
    return result if text.endswith("\n\n") else result.rstrip("\n") + "\n"


def _toml_drop(text: str, key: str, name: str) -> str:
    document = _toml_parse(text)
    servers = document[key]
    del servers[name]
    if isinstance(servers, Table) and servers.is_super_table() and not servers:
        del document[key]
    result = tomlkit.dumps(document)
    return result if text.endswith("\n\n") or not result.endswith("\n\n") else result.rstrip("\n") + "\n"


def _toml_parse(text: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:  # tomllib accepted it; tomlkit should too
        raise MemoryServerError(f"cannot edit this TOML: {exc}") from exc


def _json_put(text: str, path: tuple[str, ...], value: Any) -> str:
    """Set the member at `path` (keys from the top), creating the objects on the way."""
    node = jsonc.parse(text)
    for depth, key in enumerate(path):
        member = node.member(key)
        if member is None:
            for outer in reversed(path[depth + 1 :]):
                value = {outer: value}
            return _insert(text, node, key, value)
        if depth == len(path) - 1:
            indent = _line_indent(text, member.key_start) if _starts_line(text, member.key_start) else None
            return _splice(text, [(member.node.start, member.node.end, _render(text, value, indent))])
        node = member.node
    raise AssertionError("unreachable: the path is not empty")


def _json_drop(text: str, path: tuple[str, ...]) -> str:
    node = jsonc.parse(text)
    for key in path[:-1]:
        found = node.member(key)
        assert found is not None
        node = found.node
    index = max(i for i, m in enumerate(node.members) if m.key == path[-1])
    member, members = node.members[index], node.members
    edits: list[tuple[int, int, str]] = []
    end = member.node.end if member.comma is None else member.comma + 1
    if member.comma is None and index > 0:  # the last member: the comma before it goes with it
        previous = members[index - 1].comma
        assert previous is not None
        if not text[previous + 1 : member.key_start].strip():
            return _splice(text, [(previous, end, "")])
        edits.append((previous, previous + 1, ""))
    start = member.key_start
    if _starts_line(text, start):
        start = text.rfind("\n", 0, start) + 1
        end = _past_line_end(text, end)
    else:
        end += len(text[end:]) - len(text[end:].lstrip(" "))
    if len(members) == 1 and not (text[node.start + 1 : start] + text[end : node.end - 1]).strip():
        return _splice(text, [(node.start, node.end, "{}")])
    return _splice(text, [*edits, (start, end, "")])


def _insert(text: str, node: jsonc.Node, key: str, value: Any) -> str:
    """Add `"key": value` as the last member of the object `node`."""
    newline = "\r\n" if "\r\n" in text else "\n"
    if not node.members:
        outer = _line_indent(text, node.start)
        inner = outer + _indent_unit(text)
        member = f"{json.dumps(key, ensure_ascii=False)}: {_render(text, value, inner)}"
        interior = text[node.start + 1 : node.end - 1]
        if not interior.strip():
            return _splice(text, [(node.start + 1, node.end - 1, f"{newline}{inner}{member}{newline}{outer}")])
        closing = node.end - 1
        if _starts_line(text, closing):
            at = text.rfind("\n", 0, closing) + 1
            return _splice(text, [(at, at, f"{inner}{member}{newline}")])
        return _splice(text, [(closing, closing, f"{newline}{inner}{member}{newline}{outer}")])
    last = node.members[-1]
    if not _starts_line(text, node.members[0].key_start):  # an object on one line stays on one line
        member = f"{json.dumps(key, ensure_ascii=False)}: {_render(text, value, None)}"
        if last.comma is not None:
            return _splice(text, [(last.comma + 1, last.comma + 1, f" {member},")])
        return _splice(text, [(last.node.end, last.node.end, f", {member}")])
    indent = _line_indent(text, node.members[0].key_start)
    member = f"{indent}{json.dumps(key, ensure_ascii=False)}: {_render(text, value, indent)}"
    after = last.node.end if last.comma is None else last.comma + 1
    line_end = _line_end(text, after)
    rest = text[after:line_end].strip()
    at = line_end if not rest or rest.startswith("//") else after  # after a comment closing the line
    if last.comma is not None:
        return _splice(text, [(at, at, f"{newline}{member},")])
    return _splice(text, [(last.node.end, last.node.end, ","), (at, at, f"{newline}{member}")])


def _render(text: str, value: Any, indent: str | None) -> str:
    """`value` as JSON: objects one member a line below `indent` (None: all on one line), lists inline."""
    if indent is None or not isinstance(value, dict) or not value:
        return json.dumps(value, ensure_ascii=False)
    newline = "\r\n" if "\r\n" in text else "\n"
    inner = indent + _indent_unit(text)
    members = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_render(text, v, inner)}" for k, v in value.items()]
    return "{" + newline + ("," + newline).join(members) + newline + indent + "}"


def _splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    # From the end, so that earlier positions hold; at one position, the edit listed first ends up first.
    for _, (start, end, replacement) in sorted(enumerate(edits), key=lambda e: (e[1][0], e[0]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _indent_unit(text: str) -> str:
    match = re.search(r"^([ \t]+)\S", text, re.MULTILINE)
    return match.group(1) if match else "  "


def _line_indent(text: str, index: int) -> str:
    line = text[text.rfind("\n", 0, index) + 1 :]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _starts_line(text: str, index: int) -> bool:
    return not text[text.rfind("\n", 0, index) + 1 : index].strip()


def _line_end(text: str, index: int) -> int:
    """Where the line holding `index` ends: its '\\r\\n' or '\\n', or the end of the text."""
    end = text.find("\n", index)
    if end < 0:
        return len(text)
    return end - 1 if end > index and text[end - 1] == "\r" else end


def _past_line_end(text: str, index: int) -> int:
    """Past the line break after `index` when only blanks lie between; else `index`."""
    end = _line_end(text, index)
    if text[index:end].strip():
        return index
    return end + (2 if text.startswith("\r\n", end) else 1) if end < len(text) else end
