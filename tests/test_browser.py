"""The web pages in a real browser: headless Chromium signs in, finds what a host remembered over MCP,
opens its history, forgets it through the page, and MCP recall no longer returns it. A screenshot of
each page is saved under the test's temporary directory, for review."""

from __future__ import annotations

from pathlib import Path

import anyio
from browser_tools import chromium
from mcp_clients import http_server, http_session, server_token, structured
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver


def shot(browser: WebDriver, folder: Path, name: str) -> None:
    folder.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(folder / f"{name}.png"))


async def remembered(url: str) -> tuple[str, str]:
    async with http_session(url, "claude-code", "alice") as session:
        gone = await session.call_tool("remember", {"content": "The staging database password hint is Quokka"})
        kept = await session.call_tool("remember", {"content": "The staging database runs Postgres 17"})
        return str(structured(gone)["id"]), str(structured(kept)["id"])


async def recalled(url: str) -> list[str]:
    async with http_session(url, "claude-code", "alice") as session:
        found = await session.call_tool("recall", {"query": "staging database", "limit": 10})
        return [m["id"] for m in structured(found)["memories"]]


def test_a_person_finds_a_memory_reads_its_history_and_forgets_it_in_chromium(data_dir: Path, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    with http_server(data_dir) as url:
        gone, kept = anyio.run(remembered, url)
        base = url.removesuffix("/mcp")
        with chromium(tmp_path / "profile") as browser:
            browser.get(base + "/")
            shot(browser, shots, "1-sign-in")
            field = browser.find_element(By.ID, "token")
            field.send_keys(server_token(url))
            field.send_keys(Keys.ENTER)  # the keyboard is enough
            assert browser.find_element(By.LINK_TEXT, "alice")
            shot(browser, shots, "2-namespaces")

            browser.find_element(By.LINK_TEXT, "alice").click()
            search = browser.find_element(By.ID, "q")
            search.send_keys("password hint")
            search.submit()
            assert "Found for" in browser.page_source
            shot(browser, shots, "3-search")

            browser.find_element(By.CSS_SELECTOR, f'a[href$="/m/{gone}"]').click()
            history = browser.find_element(By.CSS_SELECTOR, "ol.history").text
            assert "created" in history and "claude-code" in history
            shot(browser, shots, "4-memory")

            browser.find_element(By.XPATH, "//button[text()='Forget this…']").click()
            assert "cannot be undone" in browser.page_source and "password hint" in browser.page_source
            shot(browser, shots, "5-confirm")
            browser.find_element(By.XPATH, "//button[text()='Forget them']").click()
            assert "Forgot 1 memory" in browser.page_source
            shot(browser, shots, "6-forgotten")

            browser.set_window_size(390, 844)  # a phone's width
            browser.get(base + f"/n/alice/m/{kept}")
            assert browser.find_element(By.TAG_NAME, "h1").is_displayed()
            shot(browser, shots, "7-phone")
        assert anyio.run(recalled, url) == [kept]
    assert len(list(shots.glob("*.png"))) == 7
