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
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.ui import WebDriverWait

LOADED = 60.0  # seconds a page may take to come, on a loaded machine: waited for, never assumed


def find(browser: WebDriver, by: str, value: str) -> WebElement:
    """The element once the page that holds it has come."""
    found: WebElement = WebDriverWait(browser, LOADED).until(shown.presence_of_element_located((by, value)))
    return found


def showing(browser: WebDriver, text: str) -> None:
    WebDriverWait(browser, LOADED).until(shown.text_to_be_present_in_element((By.TAG_NAME, "main"), text))


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
            field = find(browser, By.ID, "token")
            shot(browser, shots, "1-sign-in")
            field.send_keys(server_token(url))
            field.send_keys(Keys.ENTER)  # the keyboard is enough
            namespace = find(browser, By.LINK_TEXT, "alice")
            shot(browser, shots, "2-namespaces")

            namespace.click()
            search = find(browser, By.ID, "q")
            search.send_keys("password hint")
            search.submit()
            showing(browser, "Found for")
            shot(browser, shots, "3-search")

            find(browser, By.CSS_SELECTOR, f'a[href$="/m/{gone}"]').click()
            history = find(browser, By.CSS_SELECTOR, "ol.history").text
            assert "created" in history and "claude-code" in history
            shot(browser, shots, "4-memory")

            find(browser, By.XPATH, "//button[text()='Forget this…']").click()
            showing(browser, "cannot be undone")
            assert "password hint" in browser.page_source
            shot(browser, shots, "5-confirm")
            find(browser, By.XPATH, "//button[text()='Forget them']").click()
            showing(browser, "Forgot 1 memory")
            shot(browser, shots, "6-forgotten")

            browser.set_window_size(390, 844)  # a phone's width
            browser.get(base + f"/n/alice/m/{kept}")
            assert find(browser, By.TAG_NAME, "h1").is_displayed()
            shot(browser, shots, "7-phone")
        assert anyio.run(recalled, url) == [kept]
    assert len(list(shots.glob("*.png"))) == 7
