"""The owner's web pages, route by route, with Starlette's test client: signing in, what a token may see and
do, and the refusals (no session, foreign namespace, read-only token, missing CSRF token, foreign Origin).
The service behind them is the real one (Chroma on disk), with the fake embedder."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx2
import pytest
from conftest import open_test_service
from mcp_clients import cli, error_text, http_server, http_session, server_token, structured
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mcp_memory.core.config import Settings
from mcp_memory.core.models import OwnerInfo
from mcp_memory.core.principal import Principal
from mcp_memory.core.service import MemoryService
from mcp_memory.serve.http_app import HostOriginGuard, transport_security
from mcp_memory.serve.identity import Identity
from mcp_memory.serve.runtime import CallTracker, MemoryRuntime, ServiceLoader
from mcp_memory.serve.tokens import TokenStore
from mcp_memory.serve.web_pages import web_routes
from mcp_memory.serve.web_session import COOKIE, WebSessions

ORIGIN = "http://127.0.0.1:8765"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Site:
    service: MemoryService
    tokens: TokenStore
    sessions: WebSessions
    app: HostOriginGuard

    def client(self, token: str | None = None) -> TestClient:
        """A browser, signed in with `token` when given."""
        browser = TestClient(self.app, base_url=ORIGIN, headers={"Origin": ORIGIN}, follow_redirects=False)
        if token is not None:
            signed = browser.post("/signin", data={"token": token})
            assert signed.status_code == 303, signed.text
        return browser


def build_site(data_dir: Path, *, auth: bool = True) -> Site:
    settings = Settings(data_dir=data_dir)
    service = open_test_service(settings)
    loader = ServiceLoader(settings)
    loader._future.set_result(service)  # loaded already: the pages need no model of their own
    about = OwnerInfo(pid=1, http=None, started_at=datetime.now(UTC), version="test", data_dir="", socket="")
    runtime = MemoryRuntime(loader, CallTracker(), about)
    tokens = TokenStore(data_dir)
    sessions = WebSessions(Identity("default", tokens if auth else None))
    pages = Starlette(routes=web_routes(runtime, sessions))
    return Site(service, tokens, sessions, HostOriginGuard(pages, transport_security(Settings(port=8765), 8765)))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield build_site(tmp_path / "data")


def csrf(page: str) -> str:
    found = CSRF.search(page)
    assert found, page
    return found.group(1)


def test_without_a_session_every_page_leads_to_the_sign_in_form(site: Site) -> None:
    browser = site.client()
    assert "Access token" in browser.get("/").text
    for path in ("/n/alice", "/n/alice/m/" + "0" * 32):
        assert browser.get(path).headers["location"] == "/"
    assert browser.post("/n/alice/forget", data={"id": "0" * 32}).headers["location"] == "/"
    refused = browser.post("/signin", data={"token": "mcpm_not-a-token"})
    assert refused.status_code == 401 and "not valid" in refused.text


def test_a_token_signs_in_with_a_strict_httponly_cookie_and_sees_only_its_namespaces(site: Site) -> None:
    site.service.remember("alice", "Alice's editor is Helix")
    site.service.remember("bob", "Bob's editor is Emacs")
    token = site.tokens.create("alice-laptop", ["alice"])
    browser = site.client()
    signed = browser.post("/signin", data={"token": token})
    cookie = signed.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie and token not in cookie
    home = browser.get("/").text
    assert "/n/alice" in home and "/n/bob" not in home
    refused = browser.get("/n/bob")
    assert refused.status_code == 403 and "does not grant namespace &#39;bob&#39;" in refused.text
    assert "Emacs" not in browser.get("/n/bob?q=editor").text


def test_search_shows_the_memory_and_why_it_ranked_and_the_detail_shows_its_history(site: Site) -> None:
    kept = site.service.remember("alice", "The staging database is called Quokka", tags=["infra"]).id
    site.service.remember("alice", "Lunch is at noon on Fridays")
    browser = site.client(site.tokens.create("alice", ["alice"]))
    listed = browser.get("/n/alice").text
    assert "Quokka" in listed and "Lunch" in listed  # remembered last, newest first
    found = browser.get("/n/alice", params={"q": "Quokka"}).text
    assert f"/n/alice/m/{kept}" in found and "shares words" in found and "% similar" in found
    detail = browser.get(f"/n/alice/m/{kept}").text
    assert "The staging database is called Quokka" in detail and "created" in detail and "infra" in detail
    assert browser.get("/n/alice/m/" + "0" * 32).status_code == 404


def test_forgetting_shows_what_would_go_then_forgets_it_for_every_host(site: Site) -> None:
    gone = site.service.remember("alice", "The wifi password hint is the office plant").id
    kept = site.service.remember("alice", "The office plant is a fern").id
    browser = site.client(site.tokens.create("alice", ["alice"]))
    token = csrf(browser.get("/n/alice").text)
    planned = browser.post("/n/alice/forget", data={"csrf": token, "id": gone})
    assert planned.status_code == 200 and "cannot be undone" in planned.text and "wifi password" in planned.text
    assert site.service.history("alice", gone).state == "live"  # nothing changed yet
    done = browser.post("/n/alice/forget", data={"csrf": token, "id": gone, "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == "/n/alice?forgot=1"
    assert [m.id for m in site.service.recall("alice", "office plant", limit=10).memories] == [kept]
    assert "forgotten" in browser.get(f"/n/alice/m/{gone}").text


def test_a_form_without_its_csrf_token_or_from_another_origin_changes_nothing(site: Site) -> None:
    memory = site.service.remember("alice", "The deploy key rotates monthly").id
    browser = site.client(site.tokens.create("alice", ["alice"]))
    for sent in ({"id": memory, "confirm": "yes"}, {"id": memory, "confirm": "yes", "csrf": "forged"}):
        assert browser.post("/n/alice/forget", data=sent).status_code == 403
    token = csrf(browser.get("/n/alice").text)
    foreign = browser.post(
        "/n/alice/forget",
        data={"id": memory, "confirm": "yes", "csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert site.service.history("alice", memory).state == "live"


def test_a_read_only_token_sees_no_write_controls_and_cannot_forget(site: Site) -> None:
    memory = site.service.remember("alice", "The standup is at nine").id
    browser = site.client(site.tokens.create("auditor", ["alice"], read_only=True))
    page = browser.get("/n/alice").text
    assert "The standup is at nine" in page and "Forget" not in page and "read-only" in page
    token = csrf(page)
    refused = browser.post("/n/alice/forget", data={"csrf": token, "id": memory, "confirm": "yes"})
    assert refused.status_code == 403 and "read-only" in refused.text
    assert site.service.history("alice", memory).state == "live"


def test_a_revoked_token_signs_its_sessions_out_at_once(site: Site) -> None:
    browser = site.client(site.tokens.create("short-lived", ["alice"]))
    assert browser.get("/n/alice").status_code == 200
    site.tokens.revoke("short-lived")
    assert browser.get("/n/alice").headers["location"] == "/"


def test_signing_out_ends_the_session(site: Site) -> None:
    browser = site.client(site.tokens.create("alice", ["alice"]))
    token = csrf(browser.get("/").text)
    assert browser.post("/signout", data={"csrf": token}).status_code == 303
    assert browser.get("/n/alice").headers["location"] == "/"


def test_an_open_server_lets_a_visitor_in_without_a_token(tmp_path: Path) -> None:
    site = build_site(tmp_path / "data", auth=False)
    site.service.remember("default", "Open servers are for a trusted setup")
    browser = site.client()
    assert browser.get("/").status_code == 303  # a session is made on the first visit
    assert "Open servers" in browser.get("/n/default").text


def test_the_stylesheet_ships_in_the_package(site: Site) -> None:
    served = site.client().get("/static/dashboard.css")
    assert served.status_code == 200 and "font" in served.text


def test_the_owner_serves_the_pages_beside_mcp(data_dir: Path) -> None:
    """A real `mcp-memory serve`: what a host remembered over MCP is on the page, behind the same token."""
    with http_server(data_dir) as url:
        base = url.removesuffix("/mcp")

        async def remember() -> str:
            async with http_session(url, "claude-code", "alice") as session:
                said = await session.call_tool("remember", {"content": "The release train leaves on Thursdays"})
                return str(structured(said)["id"])

        memory = anyio.run(remember)
        with httpx2.Client(base_url=base, headers={"Origin": base}, follow_redirects=False) as browser:
            assert "Access token" in browser.get("/").text
            assert browser.post("/signin", data={"token": server_token(url)}).status_code == 303
            page = browser.get("/n/alice", params={"q": "release train"}).text
            assert f"/n/alice/m/{memory}" in page and "claude-code" in page


def test_a_sign_in_link_works_once(site: Site) -> None:
    site.service.remember("bob", "Bob keeps the spare keys")
    local = Principal(name="local", default_namespace="default")  # the owner's socket: every namespace
    code = site.sessions.link(local)
    browser = site.client()
    signed = browser.get(f"/signin/{code}")
    assert signed.status_code == 303 and COOKIE in signed.headers["set-cookie"]
    assert "spare keys" in browser.get("/n/bob").text
    again = site.client().get(f"/signin/{code}")
    assert again.status_code == 401 and "used already" in again.text


def test_mcp_memory_dashboard_prints_a_link_that_signs_this_machine_s_user_in(data_dir: Path) -> None:
    """`mcp-memory dashboard --no-open` asks the running server over its socket; an HTTP host may not."""
    with http_server(data_dir) as url:

        async def remember_then_ask_over_http() -> str:
            async with http_session(url, "claude-code", "alice") as session:
                await session.call_tool("remember", {"content": "The release train leaves on Thursdays"})
                return error_text(await session.call_tool("dashboard_link", {}))

        assert "for this machine's terminal" in anyio.run(remember_then_ask_over_http)
        link = cli(data_dir, "dashboard", "--no-open").stdout.strip()
        base = url.removesuffix("/mcp")
        assert link.startswith(f"{base}/signin/")
        with httpx2.Client(base_url=base, headers={"Origin": base}, follow_redirects=False) as browser:
            assert browser.get(link).status_code == 303
            assert "release train" in browser.get("/n/alice").text


def test_the_list_pages_latest_first_and_narrows_by_kind_tag_host_and_time(site: Site) -> None:
    for n in range(45):
        site.service.remember(
            "alice",
            f"Note {n:02d} about the garden",
            kind="preference" if n % 5 == 0 else "fact",
            tags=["garden"] if n % 3 == 0 else [],
            source="cursor" if n % 2 else "claude-code",
            occurred_at=f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}T12:00:00Z",
        )
    browser = site.client(site.tokens.create("alice", ["alice"]))
    first = browser.get("/n/alice").text
    assert "45 memories" in first and "page 1 of 3" in first
    assert first.index("Note 44") < first.index("Note 43") and "Note 24" not in first  # the latest 20
    last = browser.get("/n/alice", params={"page": "3"}).text
    assert re.findall(r">(Note \d\d) about", last) == ["Note 04", "Note 03", "Note 02", "Note 01", "Note 00"]
    assert 'rel="prev"' in last and 'rel="next"' not in last
    picked = browser.get("/n/alice", params={"kind": "preference", "tag": "garden"}).text
    assert "3 memories that match" in picked  # notes 0, 15 and 30
    assert all(f"Note {n:02d}" in picked for n in (0, 15, 30))
    hosts = browser.get("/n/alice", params={"source": "cursor", "since": "2026-02-01"}).text
    assert "8 memories that match" in hosts  # the odd notes from February on: 29, 31, … 43
    wrong = browser.get("/n/alice", params={"since": "sometime-ish"})
    assert wrong.status_code == 400 and "is not a date" in wrong.text


def test_browsing_counts_memories_not_their_parts_and_reads_only_the_page(site: Site) -> None:
    long = " ".join(f"Paragraph {n} of the onboarding guide says to read section {n}." for n in range(40))
    whole = site.service.remember("alice", long)
    assert whole.parts > 1
    short = site.service.remember("alice", "The onboarding buddy is Priya").id
    page = site.service.browse("alice", limit=1)
    assert page.total == 2 and [m.id for m in page.memories] == [short]
    assert [m.id for m in site.service.browse("alice", offset=1, limit=5).memories] == [whole.id]


def test_a_memory_is_changed_by_a_new_version_that_supersedes_it_and_shows_its_thread(site: Site) -> None:
    turns = [
        site.service.remember("alice", text, thread="standup").id
        for text in ("Who deploys?", "Priya does.", "On Tuesdays.")
    ]
    browser = site.client(site.tokens.create("alice", ["alice"]))
    middle = browser.get(f"/n/alice/m/{turns[1]}").text
    assert "In its thread" in middle and "Before: " in middle and "Who deploys?" in middle and "On Tuesdays." in middle
    token = csrf(middle)
    saved = browser.post(
        f"/n/alice/m/{turns[1]}/edit",
        data={"csrf": token, "content": "Sam does, from May.", "kind": "fact", "tags": "ops, deploy"},
    )
    assert saved.status_code == 303
    newer = saved.headers["location"].rsplit("/", 1)[1]
    assert site.service.history("alice", turns[1]).state == "superseded"
    page = browser.get(f"/n/alice/m/{newer}").text
    assert "Sam does, from May." in page and "ops, deploy" in page and turns[1] in page
    empty = browser.post(f"/n/alice/m/{newer}/edit", data={"csrf": token, "content": "  ", "kind": "fact"})
    assert empty.status_code == 400 and "content is empty" in empty.text


def test_a_read_only_token_cannot_change_a_memory(site: Site) -> None:
    memory = site.service.remember("alice", "The office closes at six").id
    browser = site.client(site.tokens.create("auditor", ["alice"], read_only=True))
    page = browser.get(f"/n/alice/m/{memory}").text
    assert "Change it" not in page
    refused = browser.post(
        f"/n/alice/m/{memory}/edit", data={"csrf": csrf(page), "content": "The office closes at five"}
    )
    assert refused.status_code == 403 and site.service.history("alice", memory).state == "live"


def test_a_namespace_is_exported_as_a_file_and_imported_into_another_from_the_page(site: Site) -> None:
    said = site.service.remember("alice", "The garden gate code is 4417", tags=["home"]).id
    browser = site.client(site.tokens.create("both", ["alice", "bob"]))
    exported = browser.get("/n/alice/export")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert lines[0]["namespace"] == "alice" and lines[-1]["memories"] == 1 and lines[1]["id"] == said
    token = csrf(browser.get("/n/bob").text)
    files = {"file": ("alice.jsonl", exported.content, "application/x-ndjson")}
    imported = browser.post("/n/bob/import", data={"csrf": token}, files=files)
    assert imported.status_code == 200 and "1 imported" in imported.text
    assert [m.id for m in site.service.recall("bob", "garden gate code").memories] == [said]
    again = browser.post("/n/bob/import", data={"csrf": token}, files=files)
    assert "0 imported, 1 already here" in again.text
    broken = {"file": ("notes.jsonl", b'{"format": "mcp-memory", "version": 1}\n{"id": "x"}\n', "text/plain")}
    refused = browser.post("/n/bob/import", data={"csrf": token}, files=broken)
    assert refused.status_code == 400
    latin = {"file": ("notes.txt", "Caf\u00e9 au lait every morning.".encode("latin-1"), "text/plain")}
    unreadable = browser.post("/n/bob/import", data={"csrf": token}, files=latin)
    assert unreadable.status_code == 400 and "not UTF-8" in unreadable.text
    dots = {"file": ("..", b"A memory from a file with no name", "text/plain")}
    assert browser.post("/n/bob/import", data={"csrf": token}, files=dots).status_code in (200, 400)


def test_a_read_only_token_may_export_but_not_import(site: Site) -> None:
    site.service.remember("alice", "Exports are reads")
    browser = site.client(site.tokens.create("auditor", ["alice"], read_only=True))
    page = browser.get("/n/alice").text
    assert "Export it" in page and 'name="file"' not in page
    assert browser.get("/n/alice/export").status_code == 200
    files = {"file": ("x.txt", b"A memory from a file", "text/plain")}
    assert browser.post("/n/alice/import", data={"csrf": csrf(page)}, files=files).status_code == 403


def test_the_overview_draws_memories_over_time_by_kind_and_host_and_lists_what_expires_soon(site: Site) -> None:
    for n, (month, kind, host) in enumerate(
        [
            ("01", "fact", "cursor"),
            ("01", "preference", "cursor"),
            ("02", "fact", "claude-code"),
            ("03", "fact", "cursor"),
        ]
    ):
        site.service.remember(
            "alice", f"Memory {n} of the year", kind=kind, source=host, occurred_at=f"2026-{month}-10T09:00:00Z"
        )
    site.service.remember("alice", "The visitor badge works until Friday", ttl="3 days")
    seen = site.service.overview("alice", now=datetime(2026, 11, 25, tzinfo=UTC))
    assert seen.total == 5 and seen.months[:3] == ["2026-01", "2026-02", "2026-03"]
    facts = next(s for s in seen.by_kind if s.name == "fact")
    assert facts.counts[:3] == [1, 1, 1]
    assert {s.name: sum(s.counts) for s in seen.by_source} == {"cursor": 3, "claude-code": 1, "unknown": 1}
    assert [m.content for m in seen.expiring] == ["The visitor badge works until Friday"]
    browser = site.client(site.tokens.create("alice", ["alice"]))
    page = browser.get("/n/alice/overview").text
    assert page.count('<svg viewBox="0 0 600') == 2 and "2026-01, fact: 1" in page and "cursor (3)" in page
    assert "visitor badge" in page
    empty = browser.get("/n/bob/overview")
    assert empty.status_code == 403


def test_review_mends_history_of_a_long_memory_edits_keep_fields_pages_refuse_large_bodies_and_framing(
    site: Site,
) -> None:
    long = " ".join(f"Paragraph {n} of the onboarding guide says to read section {n}." for n in range(40))
    whole = site.service.remember("alice", long, importance=0.9, ttl="30 days").id
    browser = site.client(site.tokens.create("alice", ["alice"]))
    page = browser.get(f"/n/alice/m/{whole}")
    assert page.status_code == 200 and "parts: " in page.text  # a number in the history's details
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    token = csrf(page.text)
    same = browser.post(f"/n/alice/m/{whole}/edit", data={"csrf": token, "content": long, "kind": "note"})
    assert same.status_code == 400 and "same as before" in same.text
    saved = browser.post(
        f"/n/alice/m/{whole}/edit", data={"csrf": token, "content": long + " And section 41.", "kind": "note"}
    )
    newer = site.service.memory("alice", saved.headers["location"].rsplit("/", 1)[1])
    assert (newer.kind.value, newer.importance, newer.expires_at is not None) == ("note", 0.9, True)
    huge = browser.post(
        "/signin", content=b"token=" + b"x" * 300_000, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert huge.status_code == 413


def test_one_token_signing_in_many_times_signs_out_only_its_own_oldest_sessions(site: Site) -> None:
    owner = site.client(site.tokens.create("owner", ["alice"]))
    noisy = site.tokens.create("noisy", ["alice"], read_only=True)
    browsers = [site.client(noisy) for _ in range(25)]
    assert owner.get("/n/alice").status_code == 200
    assert browsers[0].get("/n/alice").headers["location"] == "/" and browsers[-1].get("/n/alice").status_code == 200


def test_a_memory_of_another_namespace_is_not_found_through_one_the_token_holds(site: Site) -> None:
    secret = site.service.remember("bob", "Bob's locker code is 1234").id
    browser = site.client(site.tokens.create("alice", ["alice"]))
    token = csrf(browser.get("/n/alice").text)
    assert browser.get(f"/n/alice/m/{secret}").status_code == 404
    assert browser.post("/n/alice/forget", data={"csrf": token, "id": secret}).status_code == 404
    edited = browser.post(f"/n/alice/m/{secret}/edit", data={"csrf": token, "content": "Bob's code is 0000"})
    assert edited.status_code == 404
    assert browser.get(f"/n/bob/m/{secret}").status_code == 403
    assert site.service.history("bob", secret).state == "live"
