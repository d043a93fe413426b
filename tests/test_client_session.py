"""The CLI's session with the owner takes calls from several threads at once (an import keeps two calls with
the owner): each answer reaches the thread that asked, whatever their order, and a broken connection fails
every waiting call instead of leaving one waiting. The owner here is a scripted peer on a socket pair; the
end-to-end import through a real owner is in test_transfer.py."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_memory.core.errors import OwnerUnavailable
from mcp_memory.serve.client import OwnerSession
from mcp_memory.serve.owner_files import OwnerFiles

HANG_GUARD = 60  # seconds: only a hang comes near it


def line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[OwnerSession, socket.socket]]:
    ours, theirs = socket.socketpair()
    with OwnerSession(ours, OwnerFiles(tmp_path)) as session:
        yield session, theirs
    theirs.close()


def two_calls_at_once(session: OwnerSession, owner: Callable[[], None]) -> dict[str, Any]:
    """Two threads each make a request while `owner` reads them and answers as it likes."""
    outcomes: dict[str, Any] = {}

    def call(name: str) -> None:
        try:
            outcomes[name] = session.request("tools/call", {"name": name})
        except Exception as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=call, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    owner()
    for thread in threads:
        thread.join(HANG_GUARD)
        assert not thread.is_alive(), "a call was left waiting"
    return outcomes


def test_each_answer_reaches_the_thread_that_asked_though_they_come_in_another_order(
    pair: tuple[OwnerSession, socket.socket],
) -> None:
    session, peer = pair
    lines = peer.makefile("rb")

    def owner() -> None:
        requests = [json.loads(lines.readline()) for _ in range(2)]
        peer.sendall(line({"jsonrpc": "2.0", "id": "ping-1", "method": "ping"}))  # the owner asks too
        assert json.loads(lines.readline()) == {"jsonrpc": "2.0", "id": "ping-1", "result": {}}
        peer.sendall(line({"jsonrpc": "2.0", "method": "notifications/message", "params": {}}))
        for request in reversed(requests):
            answer = {"jsonrpc": "2.0", "id": request["id"], "result": {"for": request["params"]["name"]}}
            peer.sendall(line(answer))

    outcomes = two_calls_at_once(session, owner)
    assert outcomes == {"first": {"for": "first"}, "second": {"for": "second"}}


@pytest.mark.parametrize("breakage", [b"{not json\n", b""], ids=["garbled", "closed"])
def test_a_broken_connection_fails_every_waiting_call(
    pair: tuple[OwnerSession, socket.socket], breakage: bytes
) -> None:
    session, peer = pair
    lines = peer.makefile("rb")

    def owner() -> None:
        requests = [json.loads(lines.readline()) for _ in range(2)]
        peer.sendall(breakage)
        if breakage:  # one answer after the garbled line: the session is not to be trusted any more
            peer.sendall(line({"jsonrpc": "2.0", "id": requests[0]["id"], "result": {}}))
        else:
            peer.shutdown(socket.SHUT_WR)

    outcomes = two_calls_at_once(session, owner)
    assert all(isinstance(outcome, Exception) for outcome in outcomes.values()), outcomes
    assert any(isinstance(outcome, OwnerUnavailable) for outcome in outcomes.values()), outcomes
