"""Debian's Chromium and ChromeDriver for the browser test: installed on first use, as Node is for the
conformance suite (on a fresh Debian CI machine, running as root, with apt-get)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock
from node_tools import cache_dir
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
INSTALL_TIMEOUT = 900.0
# Headless, and quiet: no sync, no updates, no background requests (the machine may reach no network).
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)


def ensure_chromium() -> None:
    """Chromium and its driver, from Debian's packages, installed if missing."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir() / "chromium.lock"), timeout=INSTALL_TIMEOUT + 60):
        if CHROMIUM.exists() and CHROMEDRIVER.exists():
            return
        if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
            raise RuntimeError("the browser test needs Debian's chromium and chromium-driver: install them")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium", "chromium-driver"]):
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")


@contextmanager
def chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    """A headless Chromium, driven through ChromeDriver, with a fresh profile."""
    ensure_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium's own manager never looks for a driver online
    browser = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        browser.set_page_load_timeout(60)
        yield browser
    finally:
        browser.quit()
