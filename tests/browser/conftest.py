"""Browser tests: the sandbox page in Debian's Chromium, driven by Playwright for Python.

They need /usr/bin/chromium (`apt-get install chromium`; `.ci/run` installs it) and the
`playwright` package (the test extra); without either they are skipped, and `-rs` in the
suite's options prints why. Playwright never downloads a browser here: it launches the
system's Chromium by its path. Each step's screenshot goes to tests/artifacts/.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.browser import CHROMIUM, LAUNCH_ARGS
from tests.helpers.paths import ARTIFACTS


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator:
    """A sandbox with the demo data, on a free port, for one test module."""
    from sandbox.demo import fill
    from sandbox.server import Sandbox

    running = Sandbox(tmp_path_factory.mktemp("sandbox"), 0).start().serve_in_background()
    fill(running)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(browser, sandbox) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.errors = errors
    opened.goto(sandbox.url + "/?as=ULEAD001")
    opened.wait_for_selector("#channel-list .channel")
    yield opened
    context.close()
    assert errors == [], "script errors on the page"


@pytest.fixture(autouse=True)
def everything_drawn(request) -> Iterator[None]:
    """After each browser test: the page drew every block, element and rich text part it
    was given (what it cannot draw is listed by the page and fails the test here)."""
    yield
    if "page" not in request.fixturenames:
        return
    page = request.getfixturevalue("page")
    undrawn = page.evaluate("() => window.copbotSandbox ? window.copbotSandbox.undrawn : []")
    assert undrawn == [], f"the page could not draw: {sorted(set(undrawn))}"


class Shots:
    """Numbered screenshots of each step, under tests/artifacts/<module>/."""

    def __init__(self, folder: Path):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.n = 0

    def __call__(self, page, name: str) -> Path:
        self.n += 1
        time.sleep(0.15)  # the last long-poll answer drawn
        path = self.folder / f"{self.n:02d}-{name}.png"
        page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="module")
def shot(request) -> Shots:
    return Shots(ARTIFACTS / Path(request.module.__file__).stem)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """When a journey fails: a screenshot of the page as it was, and Slack's refusals the
    sandbox recorded, in the failure's report, so a failure on a CI machine can be read."""
    report = yield
    page, sandbox = item.funcargs.get("page"), item.funcargs.get("sandbox")
    if report.when == "call" and report.failed and page is not None:
        folder = ARTIFACTS / Path(item.module.__file__).stem
        folder.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(folder / f"FAILED-{item.name}.png"))
            text = page.inner_text("body")[:3000]
        except Exception as e:  # noqa: BLE001 - the page itself may be what broke
            text = f"(the page could not be read: {e})"
        problems = [vars(p) for p in sandbox.workspace.problems] if sandbox else []
        report.sections.append(("sandbox at the failure", f"{problems}\n\n{text}"))
    return report
