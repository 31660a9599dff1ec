"""The console in a real browser: headless Chromium from Debian's packages, driven by
Selenium through Debian's chromedriver, against `gatectl emulate` + `gatectl run` +
`gatectl console`. An officer signs in, watches the lane go to HOLD live, releases the
truck from the queue and sees the exit open; a second truck, referred for inspection, is
rejected; a script's POST without the CSRF token is refused; a refused action shows the
lane's reason; a viewer can act on nothing. A truck whose tag is dead waits at the
approach until the officer identifies it from the queue, then is admitted; a session left
idle past `session_minutes` sends the page, and the next action, to sign-in. Screenshots
of the gate and the queue are taken on every run (into the test's temporary directory); with
GATEBRIDGE_UPDATE_SCREENSHOTS=1 (`make screenshots`) they replace docs/console/'s, so a
plain `make test` leaves the work tree as it found it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.console_stack import (
    PASSWORD,
    THIRD_TAG,
    control,
    gatectl,
    short_sessions_config,
    stack_config,
)
from tests.e2e.test_emulate_and_run import ROOT

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
DOCS_SHOTS = ROOT / "docs" / "console"


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    """Where the screenshots go; copied to docs/console/ when asked to."""
    yield tmp_path
    for shot in ("gate.png", "queue.png"):
        assert (tmp_path / shot).read_bytes().startswith(b"\x89PNG"), shot
        if os.environ.get("GATEBRIDGE_UPDATE_SCREENSHOTS") == "1":
            shutil.copyfile(tmp_path / shot, DOCS_SHOTS / shot)


@dataclass(frozen=True)
class Stack:
    config: Path
    url: str
    emulator: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """emulate, run and console, once for the module (the tests follow one another: the
    world numbers its trucks, and the manifest knows them by those numbers)."""
    tmp = tmp_path_factory.mktemp("stack")
    config, url = stack_config(tmp)
    emulator = tmp / "emulate.sock"
    with (
        gatectl(
            "emulate",
            "--config",
            str(config),
            "--time-scale",
            "4",
            "--control",
            str(emulator),
            ready="ready",
        ),
        gatectl("run", "--config", str(config), ready="running"),
        gatectl("console", "--config", str(config), ready="console on"),
    ):
        yield Stack(config, url, emulator)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    for needed in (CHROMIUM, CHROMEDRIVER):
        assert needed.exists(), f"{needed}: install Debian's chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--disable-gpu",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def wait(
    driver: WebDriver, condition: Callable[[WebDriver], object], timeout_s: float = 30
) -> None:
    WebDriverWait(driver, timeout_s, poll_frequency=0.1).until(condition)


def field(driver: WebDriver, name: str) -> str:
    return driver.find_element(
        By.CSS_SELECTOR, f'.lane[data-lane="L01"] [data-field="{name}"]'
    ).text


def sign_in(driver: WebDriver, url: str, name: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{url}/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    wait(driver, lambda d: d.find_elements(By.ID, "who"))


FORGED_POST = """
const done = arguments[arguments.length - 1];
fetch("/lanes/L01/hold", {method: "POST", redirect: "manual",
  body: new URLSearchParams({action: "release", reason: "no token here"})})
  .then((r) => done(r.status));
"""


def decide(driver: WebDriver, url: str, action: str, reason: str) -> None:
    """From the queue: the held truck's Release or Reject, with a reason."""
    driver.get(f"{url}/queue")
    card = driver.find_element(By.CSS_SELECTOR, "[data-held]")
    form = card.find_element(By.CSS_SELECTOR, f"form:has(button.{action})")
    form.find_element(By.NAME, "reason").send_keys(reason)
    form.find_element(By.CSS_SELECTOR, f"button.{action}").click()
    wait(driver, lambda d: f"L01: {action}: accepted" in d.page_source)


def test_an_officer_releases_a_held_truck_and_a_viewer_cannot(
    stack: Stack, browser: WebDriver, shots: Path
) -> None:
    url, emulator = stack.url, stack.emulator
    sign_in(browser, url, "alice")
    wait(browser, lambda d: field(d, "state") == "idle")  # the stream is live
    assert control(emulator, {"op": "spawn", "lane": "L01"})["ok"]
    wait(browser, lambda d: field(d, "state") == "hold", 40)  # no reload: live
    assert "out of tolerance" in field(browser, "hold_reason")
    wait(browser, lambda d: d.find_element(By.ID, "live").text == "live")
    browser.save_screenshot(str(shots / "gate.png"))

    browser.get(f"{url}/queue")
    card = browser.find_element(By.CSS_SELECTOR, "[data-held]")
    assert "1,000 kg" in card.text  # declared, beside the weighed gross
    wait(browser, lambda d: d.find_element(By.ID, "live").text == "live")
    browser.save_screenshot(str(shots / "queue.png"))
    decide(browser, url, "release", "weight re-declared by the agent")

    browser.get(url)
    wait(browser, lambda d: field(d, "barrier_exit") in ("opening", "open"))
    emulated: Any = control(emulator, {"op": "status"})["lanes"]
    assert emulated["L01"]["barriers"]["exit"]["state"] in ("opening", "open")

    assert control(emulator, {"op": "spawn", "lane": "L01"})["ok"]  # referred: inspect
    wait(browser, lambda d: field(d, "hold_reason") == "inspect", 40)
    decide(browser, url, "reject", "seal broken: to the inspection bay")
    browser.get(url)
    wait(browser, lambda d: field(d, "state") == "idle", 40)  # the rejected truck left

    forged = browser.execute_async_script(FORGED_POST)  # a script without the token
    assert forged == 403

    browser.get(f"{url}/")
    details = browser.find_element(By.CSS_SELECTOR, '.lane[data-lane="L01"] details')
    details.click()
    release = details.find_element(By.CSS_SELECTOR, 'form[action="/lanes/L01/hold"]')
    release.find_element(By.NAME, "reason").send_keys("nothing is held any more")
    release.find_element(By.CSS_SELECTOR, "button").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".flash.refused"))
    refused = browser.find_element(By.CSS_SELECTOR, ".flash.refused").text
    assert refused.startswith("L01: release: refused: not allowed in state"), refused

    browser.get(f"{url}/lanes/L01")  # the lane's history: the hold and the decisions
    history = browser.find_element(By.ID, "history").text
    assert "state_changed" in history
    assert "operator_command" in history
    assert "alice via console" in history

    sign_in(browser, url, "victor")
    assert "victor (viewer)" in browser.find_element(By.ID, "who").text
    assert browser.find_elements(By.CSS_SELECTOR, "form.action") == []
    browser.get(f"{url}/queue")
    assert browser.find_elements(By.CSS_SELECTOR, "form.action") == []
    browser.get(f"{url}/audit")
    assert "intact" in browser.find_element(By.ID, "chain").text
    assert "alice via console" in browser.page_source


def lane_status(emulator: Path) -> Any:
    """The emulator's view of L01: its barriers, departures, the oracle's incidents."""
    lanes: Any = control(emulator, {"op": "status"})["lanes"]
    return lanes["L01"]


def test_an_officer_identifies_a_truck_whose_tag_is_dead(stack: Stack, browser: WebDriver) -> None:
    url = stack.url
    sign_in(browser, url, "alice")
    wait(browser, lambda d: field(d, "state") == "idle", 40)
    before = lane_status(stack.emulator)
    spawned: Any = control(stack.emulator, {"op": "spawn", "lane": "L01", "behaviour": "dead_tag"})
    tag = spawned["tag"]
    assert tag == THIRD_TAG, "the third truck of the world: run after the release test"
    # at the stop line, no tag read: the lane waits for one, then times identification out
    wait(browser, lambda d: field(d, "approach") in ("waiting_tag", "timed_out"), 40)
    assert field(browser, "state") == "idle"  # nobody is admitted on nothing
    browser.get(f"{url}/queue")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-approach="L01"]'))
    card = browser.find_element(By.CSS_SELECTOR, '[data-approach="L01"]')
    assert "none read" in card.text
    card.find_element(By.NAME, "tag").send_keys(tag)
    card.find_element(By.NAME, "reason").send_keys("tag dead; EPC from the transit papers")
    card.find_element(By.CSS_SELECTOR, "button.identify").click()
    wait(browser, lambda d: "L01: identify: accepted" in d.page_source)

    browser.get(url)  # the clearance decision arrives, the entry opens, the truck drives on
    wait(browser, lambda d: field(d, "deck_vehicle") == tag, 40)
    wait(browser, lambda d: field(d, "state") == "idle" and field(d, "deck_vehicle") == "-", 40)
    emulated = lane_status(stack.emulator)
    assert emulated["departed"] == before["departed"] + 1  # out through the exit
    assert not [kind for kind, by in emulated["incidents"] if by == "controller"]
    browser.get(f"{url}/lanes/L01")
    assert "alice via console" in browser.find_element(By.ID, "history").text


SESSION_S = 6  # session_minutes: 0.1


STALE_POST = """
const [csrf, done] = [arguments[0], arguments[arguments.length - 1]];
fetch("/lanes/L01/mode", {method: "POST",
  body: new URLSearchParams({csrf: csrf, mode: "closed", reason: "after the session ended"})})
  .then((r) => done(new URL(r.url).pathname));
"""


def test_an_idle_session_expires_to_the_sign_in_page(stack: Stack, browser: WebDriver) -> None:
    config, url = short_sessions_config(stack.config)
    with gatectl("console", "--config", str(config), ready="console on"):
        sign_in(browser, url, "alice")
        csrf = browser.find_element(By.NAME, "csrf").get_attribute("value")
        # left alone, the open page is sent to sign-in when the session ends (the live
        # stream does not renew it; only a person's requests do)
        wait(browser, lambda d: d.current_url.endswith("/login"), SESSION_S * 4)
        assert browser.find_elements(By.ID, "sign-in")
        browser.get(f"{url}/queue")
        assert browser.current_url.endswith("/login")
        # an action from a page still open elsewhere, its token once valid: sign-in too
        assert browser.execute_async_script(STALE_POST, csrf) == "/login"
    sign_in(browser, stack.url, "alice")
    assert field(browser, "state") == "idle"  # the stale action did not close the lane
