"""Tokens and principals as the server sees them: what a token grants, and how fast a revocation lands."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from mcp_memory.core.errors import AccessDenied, InvalidInput, MemoryServerError
from mcp_memory.core.principal import Caller, Principal
from mcp_memory.serve.identity import MemoryAccess, TokenVerifier
from mcp_memory.serve.tokens import TokenStore


def test_a_revocation_from_another_process_is_seen_by_the_server_on_its_next_check(tmp_path: Path) -> None:
    server_side, terminal = TokenStore(tmp_path), TokenStore(tmp_path)
    token = terminal.create("cursor", ["alice"])
    assert server_side.authenticate(token) is not None
    terminal.revoke("cursor")
    assert server_side.authenticate(token) is None
    again = terminal.create("cursor", ["alice"])  # the same name, a new secret: the old one stays dead
    assert server_side.authenticate(token) is None
    assert server_side.authenticate(again) is not None


def test_only_a_hash_of_the_token_is_written(tmp_path: Path) -> None:
    token = TokenStore(tmp_path).create("laptop", ["alice", "team"], read_only=True)
    written = (tmp_path / "tokens.json").read_text()
    assert token not in written and token.removeprefix("mcpm_") not in written
    assert (tmp_path / "tokens.json").stat().st_mode & 0o077 == 0


def test_a_token_s_principal_holds_its_namespaces_first_one_by_default(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    record = store.authenticate(store.create("laptop", ["alice", "team"], read_only=True))
    assert record is not None
    principal = record.principal()
    assert principal.namespace(None) == "alice"
    assert principal.namespace("team") == "team"
    with pytest.raises(AccessDenied, match="does not grant namespace 'bob'; it grants: alice, team"):
        principal.namespace("bob")
    with pytest.raises(AccessDenied, match="read-only"):
        principal.require_write("remember")


def test_the_trusted_socket_principal_names_any_valid_namespace() -> None:
    local = Principal(name="local", default_namespace="alice")
    assert Caller(local).namespace() == "alice"
    assert Caller(local, "bob").namespace() == "bob"
    with pytest.raises(InvalidInput, match="invalid namespace"):
        Caller(local, "Not Valid!").namespace()


def test_tokens_that_are_malformed_unknown_or_in_a_damaged_file_admit_nobody(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    token = store.create("cursor", ["alice"])
    verifier = TokenVerifier(store)

    async def verify(candidate: str) -> object:
        return await verifier.verify_token(candidate)

    access = anyio.run(verify, token)
    assert isinstance(access, MemoryAccess) and access.principal.namespaces == frozenset({"alice"})
    assert access.token == ""  # the secret is not carried around the server
    for wrong in ("", "mcpm_", token[:-1], token + "x", "mcpm_" + "a" * 400, token.upper()):
        assert anyio.run(verify, wrong) is None
    for damage in (b"{not json", b"\xff\xfe not text", b'{"tokens": [{"name": 1}]}'):
        (tmp_path / "tokens.json").write_bytes(damage)
        assert anyio.run(verify, token) is None
    (tmp_path / "tokens.json").unlink()
    (tmp_path / "tokens.json").mkdir()
    assert anyio.run(verify, token) is None
    with pytest.raises(MemoryServerError, match=r"tokens\.json"):
        store.records()


def test_a_first_token_is_made_only_where_no_token_was_ever_made(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    first = store.create_first("default", ["default"])
    assert first is not None and store.authenticate(first) is not None
    assert store.create_first("default", ["default"]) is None
    store.revoke("default")
    assert store.create_first("default", ["default"]) is None  # revoking every token keeps HTTP closed
    assert store.records() == []


def test_bad_token_requests_are_refused_with_a_reason(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    with pytest.raises(InvalidInput, match="invalid token name"):
        store.create("has space", ["alice"])
    with pytest.raises(InvalidInput, match="at least one namespace"):
        store.create("empty", [])
    with pytest.raises(InvalidInput, match="invalid namespace"):
        store.create("bad", ["Alice!"])
    store.create("once", ["alice"])
    with pytest.raises(InvalidInput, match="exists"):
        store.create("once", ["bob"])
    assert [r.name for r in store.records()] == ["once"]
