"""The wheel and sdist build, pass ``twine check``, and install into a clean virtualenv."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.support import ROOT

if TYPE_CHECKING:
    import pathlib


@pytest.mark.timeout(900)
def test_wheel_installs_into_a_clean_virtualenv_and_airflow_lists_it(tmp_path: pathlib.Path) -> None:
    from airflow_provider_applemusic import __version__

    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("*.whl"))
    sdist = next(dist.glob("*.tar.gz"))
    assert wheel.name == f"airflow_provider_applemusic-{__version__}-py3-none-any.whl"
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            str(ROOT / "constraints.txt"),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    env = {
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "HOME": str(tmp_path),
    }
    listed = subprocess.run(
        [str(venv / "bin" / "airflow"), "providers", "list", "--output", "plain"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert any(
        line.split()[0] == "airflow-provider-applemusic" and line.split()[-1] == __version__
        for line in listed.stdout.splitlines()
        if line.strip()
    ), listed.stdout
    files = subprocess.run(
        [
            str(python),
            "-c",
            "import airflow_provider_applemusic, pathlib; "
            "print(pathlib.Path(airflow_provider_applemusic.__file__).with_name('py.typed').exists())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert files.stdout.strip() == "True"
