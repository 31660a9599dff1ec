"""The console in a real browser: headless Chromium from Debian's packages, driven by
Selenium through Debian's chromedriver, against `gatectl emulate` + `gatectl run` +
`gatectl console`. An officer signs in, watches the lane go to HOLD live, releases the
truck from the queue and sees the exit open; a second truck, referred for inspection, is
rejected; a script's POST without the CSRF token is refused; a refused action shows the
lane's reason; a viewer can act on nothing. Screenshots of the gate and the queue are
taken on every run (into the test's temporary directory); with
GATEBRIDGE_UPDATE_SCREENSHOTS=1 (`make screenshots`) they replace docs/console/'s, so a
plain `make test` leaves the work tree as it found it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.console_stack import PASSWORD, control, gatectl, stack_config
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


@pytest.fixture
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
    tmp_path: Path, browser: WebDriver, shots: Path
) -> None:
    config, url = stack_config(tmp_path)
    emulator = tmp_path / "emulate.sock"
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
