"""
The deployment tier: real Airflow components as subprocesses, started once per session.

``airflow api-server``, ``airflow scheduler``, ``airflow dag-processor`` and ``airflow triggerer``
run with a temporary ``AIRFLOW_HOME``, LocalExecutor and SQLite; the Apple Music emulator and
moto's S3 server run on loopback in this process. Tests drive the deployment as a user does:
through ``/api/v2`` and the ``airflow`` CLI. DAG files: copies of ``example_dags/*.py``, the
files in ``tests/system/deployment/dags/`` and the hook example of ``docs/hook.md``; later tiers add theirs to
``DAG_SOURCES``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_applemusic.emulator import AppleMusicEmulator

#: folders whose ``*.py`` files are copied into the deployment's DAG folder
DAG_SOURCES = [ROOT / "example_dags", Path(__file__).parent / "dags"]
#: the emulator is ``make demo``'s (seed 7, 2000 albums): the example DAGs' defaults must work on it
EMULATOR_ALBUMS = 2000
BUCKET = "applemusic-deployment"
#: the poll interval of the example library watcher on the tier
WATCH_POLL_SECONDS = 3
#: how long to wait for anything before giving up (a hang guard, not an assertion on speed)
PATIENCE_SECONDS = 240
#: longer than SQLite's busy timeout (60 s, in the connection string): the api-server answers first
API_TIMEOUT_SECONDS = 90
TERMINAL_RUN_STATES = {"success", "failed"}
TERMINAL_TI_STATES = {"success", "failed", "skipped", "upstream_failed", "removed"}


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def accepts_connections(port: int) -> bool:
    """Whether something listens on ``127.0.0.1:port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def readme_hook_example() -> str:
    """The docs' hook example (the first python block under "Using the hook" in ``docs/hook.md``)."""
    page = (ROOT / "docs" / "hook.md").read_text(encoding="utf-8")
    section = page.split("## Using the hook", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "docs/hook.md has no python block under 'Using the hook'"
    return match.group(1)


def session_processes(sessions: set[int]) -> list[Any]:
    """
    Live processes of these sessions: every component starts its own session, and its children
    stay in it (Airflow moves task processes to their own process group, not session).
    """
    import psutil

    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getsid(process.pid) in sessions and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
    return found


@dataclass
class Deployment:
    """A running Airflow deployment and the fakes it talks to."""

    home: Path
    dags: Path
    env: dict[str, str]
    emulator: AppleMusicEmulator
    s3: Any
    s3_url: str
    api_port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str = ""
    moto: Any = None
    stopped: bool = False

    # -- talking to it ---------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The api-server's base URL."""
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def sessions(self) -> set[int]:
        """The sessions of the components (each one's pid)."""
        return {process.pid for process in self.processes.values()}

    @property
    def ports(self) -> list[int]:
        """Every port the tier listens on."""
        return [self.api_port, self.emulator.port, int(self.s3_url.rsplit(":", 1)[1])]

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """
        One ``/api/v2`` request as the (admin) user; returns the ``requests`` response. A read
        that times out (the api-server's SQLite reads stall while the machine is busy) is asked
        again until :data:`PATIENCE_SECONDS` have passed; a write is sent once.
        """
        import requests

        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        url = f"{self.api_url}/api/v2{path}"
        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:
            try:
                return requests.request(method, url, headers=headers, timeout=API_TIMEOUT_SECONDS, **kwargs)
            except requests.Timeout:
                if method != "GET" or time.monotonic() > deadline:
                    raise

    def get(self, path: str, **params: Any) -> Any:
        """GET ``/api/v2{path}``; the JSON body (fails on an error status)."""
        response = self.api("GET", path, params=params)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:500]}"
        return response.json()

    def cli(self, *args: str) -> str:
        """
        Run ``airflow <args>`` against the deployment; its output (fails on a non-zero exit).

        A command that SQLite refused with "database is locked" (it gives up at once when two
        writers would deadlock) is run again, as a user would.
        """
        for attempt in range(1, 4):
            completed = subprocess.run(
                [sys.executable, "-m", "airflow", *args],
                env=self.env,
                cwd=self.home,
                capture_output=True,
                text=True,
                timeout=PATIENCE_SECONDS,
            )
            output = completed.stdout + completed.stderr
            if completed.returncode == 0 or "database is locked" not in output or attempt == 3:
                break
        assert completed.returncode == 0, f"airflow {' '.join(args)} failed:\n{output[-4000:]}"
        return output

    def trigger(self, dag_id: str, *, logical_date: str | None = None, conf: Any = None) -> dict[str, Any]:
        """Trigger a run through the API, as the UI's Trigger button does; returns the run."""
        import requests

        # the run id is chosen here, so that a trigger whose answer timed out (SQLite's writers
        # queue while the scheduler works) is sent again without making a second run
        run_id = f"manual__tier_{uuid.uuid4().hex[:12]}"
        body: dict[str, Any] = {"logical_date": logical_date, "dag_run_id": run_id}
        if conf is not None:
            body["conf"] = conf
        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:
            try:
                response = self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)
            except requests.Timeout:
                assert time.monotonic() < deadline, f"trigger {dag_id}: the api-server never answered"
                continue
            if response.status_code == 409:  # the timed-out attempt made it
                return dict(self.get(f"/dags/{dag_id}/dagRuns/{run_id}"))
            if response.status_code >= 500 and "locked" in response.text and time.monotonic() < deadline:
                continue  # SQLite gave up waiting for the scheduler's write: as a user would, again
            assert response.status_code == 200, f"trigger {dag_id}: {response.status_code} {response.text}"
            return dict(response.json())

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Every run of a DAG."""
        return list(self.get(f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"])

    def wait_for_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """Wait until a run has finished; returns it."""
        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:
            run = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in TERMINAL_RUN_STATES:
                return dict(run)
            self.check_alive()
            assert time.monotonic() < deadline, f"{dag_id} {run_id} still {run['state']}"
            time.sleep(1)

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """One task instance, with its trigger while deferred."""
        return dict(self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"))

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        """``{task_id: state}`` of a run."""
        tis = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["state"] for ti in tis}

    def task_log(self, dag_id: str, run_id: str, task_id: str) -> str:
        """A task's log as the API serves it (every try; JSON lines of the structured log)."""
        ti = self.task_instance(dag_id, run_id, task_id)
        texts = []
        for try_number in range(1, max(1, ti["try_number"]) + 1):
            response = self.api(
                "GET",
                f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
                params={"full_content": "true"},
                headers={"Accept": "application/json"},
            )
            assert response.status_code == 200, response.text[:500]
            texts.append(json.dumps(response.json()["content"]))
        return "\n".join(texts)

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        """A task's return value."""
        entry = self.get(
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
            deserialize="true",
        )
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) else value

    def add_connection(self, conn_id: str, connection: dict[str, Any], **extra: Any) -> None:
        """
        Store a connection (an emulator's ``connection_dict``) in the metadata database through
        the REST API, as the UI does; ``extra`` is merged into its extra.
        """
        response = self.api(
            "POST",
            "/connections",
            json={
                "connection_id": conn_id,
                **{key: connection[key] for key in ("conn_type", "host", "login", "password")},
                "extra": json.dumps({**connection["extra"], **extra}),
            },
        )
        assert response.status_code in (200, 201), response.text

    def read_object(self, key: str) -> bytes:
        """An object of the tier's bucket."""
        return bytes(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    # -- lifecycle ---------------------------------------------------------------------------

    def start_component(self, name: str, *args: str) -> None:
        """Start ``airflow <args>`` in its own session, output to ``components/<name>.log``."""
        log_dir = self.home / "components"
        log_dir.mkdir(exist_ok=True)
        with open(log_dir / f"{name}.log", "wb") as out:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "airflow", *args],
                env=self.env,
                cwd=self.home,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def restart_component(self, name: str) -> None:
        """Stop a component as a service manager does (SIGTERM to its group), then start it again."""
        process = self.processes[name]
        args = [str(arg) for arg in process.args][3:]  # after ``python -m airflow``
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        log = self.home / "components" / f"{name}.log"
        log.rename(log.with_suffix(f".{time.monotonic_ns()}.log"))
        self.start_component(name, *args)

    def reparse(self, dag_id: str) -> None:
        """Ask the dag-processor to parse a DAG's file now (as the UI's Reparse button does)."""
        file_token = self.get(f"/dags/{dag_id}/details")["file_token"]
        response = self.api("PUT", f"/parseDagFile/{file_token}")
        assert response.status_code in (200, 201, 204), response.text

    def component_log(self, name: str) -> str:
        """What a component printed so far."""
        path = self.home / "components" / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def check_alive(self) -> None:
        """Fail, with its output, if a component has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                pytest.fail(
                    f"airflow {name} exited ({process.returncode}):\n{self.component_log(name)[-4000:]}"
                )

    def wait_until_serving(self) -> None:
        """Wait for the api-server, then take a token from the simple auth manager."""
        import requests

        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:
            self.check_alive()
            with contextlib.suppress(requests.RequestException):
                response = requests.get(f"{self.api_url}/api/v2/monitor/health", timeout=5)
                if response.status_code == 200:
                    break
            assert time.monotonic() < deadline, "the api-server did not start"
            time.sleep(0.5)
        # with [core] simple_auth_manager_all_admins, GET /auth/token hands out an admin token
        response = requests.get(f"{self.api_url}/auth/token", timeout=30)
        assert response.status_code in (200, 201), response.text
        self.token = response.json()["access_token"]

    def wait_for_dags(self, *dag_ids: str) -> None:
        """Wait until the dag-processor has parsed these DAGs, then unpause them."""
        deadline = time.monotonic() + PATIENCE_SECONDS
        pending = set(dag_ids)
        while pending:
            self.check_alive()
            for dag_id in sorted(pending):
                if self.api("GET", f"/dags/{dag_id}").status_code == 200:
                    pending.discard(dag_id)
            if pending:
                errors = self.get("/importErrors").get("import_errors", [])
                assert not errors, f"DAG import errors: {errors}"
                assert time.monotonic() < deadline, f"DAGs never parsed: {pending}"
                time.sleep(1)
        for dag_id in dag_ids:
            response = self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
            assert response.status_code == 200, response.text

    def stop(self) -> None:
        """Stop every component (process groups, then any straggler), the emulator and moto."""
        if self.stopped:
            return
        self.stopped = True
        import psutil

        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        # children that moved to a process group of their own are still in the session
        stragglers = session_processes(self.sessions)
        for straggler in stragglers:
            with contextlib.suppress(psutil.Error):
                straggler.kill()
        psutil.wait_procs(stragglers, timeout=30)
        self.emulator.stop()
        if self.moto is not None:
            self.moto.stop()


def _environment(home: Path, dags: Path, api_port: int, s3_url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    # the other tiers' Airflow settings (tests/conftest.py) must not leak into the deployment
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "6",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            # four components and the tasks share one SQLite file: wait for its lock, not 5 s
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db?timeout=60",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
            "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {"conn_type": "aws", "extra": {"endpoint_url": s3_url, "region_name": "us-east-1"}}
            ),
            "AIRFLOW_VAR_APPLEMUSIC_BUCKET": BUCKET,
            # the library watcher of applemusic_on_library_change polls every few seconds here
            "APPLEMUSIC_WATCH_POLL_SECONDS": str(WATCH_POLL_SECONDS),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "deployment",
            "AWS_SECRET_ACCESS_KEY": "deployment",
        }
    )
    return env


def _copy_dags(dags: Path) -> None:
    dags.mkdir()
    for source in DAG_SOURCES:
        for path in sorted(source.glob("*.py")):
            if path.name != "__init__.py":
                shutil.copy(path, dags / path.name)
    (dags / "readme_hook_example.py").write_text(readme_hook_example(), encoding="utf-8")


def start_local_s3() -> tuple[Any, str, Any]:
    """moto's S3 in server mode on a loopback port with the tier's bucket: (server, URL, client)."""
    import boto3
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    s3_url = f"http://{host}:{port}"
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="deployment",
        aws_secret_access_key="deployment",
    )
    s3.create_bucket(Bucket=BUCKET)
    return moto, s3_url, s3


#: the test that stops the deployment: it runs after every other test of the tier, whatever its file
STOPPING_TEST = "test_stopping_leaves_no_process_and_no_open_port"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move :data:`STOPPING_TEST` to the end (the tier's tests share one deployment)."""
    items.sort(key=lambda item: item.name == STOPPING_TEST)


@pytest.fixture(scope="session")
def deployment() -> Iterator[Deployment]:
    """A running deployment: the four Airflow components, the emulator and moto's S3."""
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    home = Path(tempfile.mkdtemp(prefix="applemusic-deployment-"))
    emulator = AppleMusicEmulator(albums=EMULATOR_ALBUMS, latency_ms=0, add_delay=3.0).start()
    moto, s3_url, s3 = start_local_s3()
    api_port = free_port()
    dags = home / "dags"
    _copy_dags(dags)
    env = _environment(home, dags, api_port, s3_url)
    deployment = Deployment(
        home=home,
        dags=dags,
        env=env,
        emulator=emulator,
        s3=s3,
        s3_url=s3_url,
        api_port=api_port,
        moto=moto,
    )
    try:
        deployment.cli("db", "migrate")
        deployment.start_component("api-server", "api-server", "-H", "127.0.0.1", "-p", str(api_port))
        deployment.start_component("scheduler", "scheduler", "--skip-serve-logs")
        deployment.start_component("dag-processor", "dag-processor")
        deployment.start_component("triggerer", "triggerer", "--skip-serve-logs")
        deployment.wait_until_serving()
        response = deployment.api(
            "POST",
            "/pools",
            json={"name": "apple_music", "slots": 4, "description": "Apple Music API"},
        )
        assert response.status_code in (200, 201), response.text
        # the Apple Music connection is stored in the metadata database, as through the UI
        deployment.add_connection("apple_music_default", emulator.connection_dict())
        yield deployment
    finally:
        deployment.stop()
        if os.environ.get("APPLEMUSIC_KEEP_DEPLOYMENT_HOME") is None:
            shutil.rmtree(home, ignore_errors=True)
