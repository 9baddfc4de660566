"""
Take ``docs/img/connection-form.png``: the Airflow UI's add-connection form for Apple Music.

Not part of ``make test``. Install once (Debian's Chromium and its driver; no browser download)::

    apt-get install -y chromium chromium-driver
    .venv/bin/pip install selenium

Then run ``.venv/bin/python docs/screenshot_connection_form.py``. It starts ``airflow api-server``
on a loopback port with a throwaway SQLite home (simple auth manager, everyone admin), opens the
add-connection modal, picks *Apple Music*, fills in example values (no real secret), opens the
extra fields and saves the picture.
"""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

import requests

OUT = pathlib.Path(__file__).parent / "img" / "connection-form.png"
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1900",
]


def start_api_server() -> tuple[subprocess.Popen[bytes], str]:
    home = tempfile.mkdtemp(prefix="applemusic-ui-")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
    }
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if requests.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return server, url
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("airflow api-server did not start")


def main() -> int:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    server, url = start_api_server()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    wait = WebDriverWait(driver, 30)
    try:
        driver.get(f"{url}/connections")
        wait.until(
            expected_conditions.element_to_be_clickable(
                (By.XPATH, "//button[contains(normalize-space(.), 'Add Connection')]")
            )
        ).click()
        wait.until(expected_conditions.presence_of_element_located((By.NAME, "connection_id"))).send_keys(
            "apple_music_default"
        )
        combo = driver.find_element(By.CSS_SELECTOR, "[role=dialog] [role=combobox]")
        combo.click()
        combo.send_keys("Apple Music")
        time.sleep(1)
        combo.send_keys(Keys.ENTER)
        wait.until(expected_conditions.presence_of_element_located((By.NAME, "login")))
        time.sleep(1)  # the form re-renders once the type is chosen
        driver.find_element(By.NAME, "login").send_keys("A1B2C3D4E5")
        driver.find_element(By.NAME, "password").send_keys("example, not a key")
        driver.find_element(
            By.XPATH, "//*[@role='dialog']//*[normalize-space(text())='Extra Fields']"
        ).click()
        key_id = wait.until(expected_conditions.element_to_be_clickable((By.NAME, "element_key_id")))
        key_id.send_keys("ABC123DEFG")
        driver.find_element(By.NAME, "element_music_user_token").click()
        driver.find_element(By.NAME, "element_music_user_token").send_keys("example")
        time.sleep(1)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        driver.find_element(By.CSS_SELECTOR, "[role=dialog]").screenshot(str(OUT))
        print(f"saved {OUT}")
    finally:
        driver.quit()
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
