"""What tests of every tier share: the emulator's tokens, raw HTTP to it, files to import, DAG runs."""

from __future__ import annotations

import importlib.util
import pathlib
import time
from typing import TYPE_CHECKING, Any

import jwt
import requests

if TYPE_CHECKING:
    from airflow_provider_applemusic.emulator import AppleMusicEmulator

#: the repository's root (``example_dags/``, ``docs/``, ``scripts/``, ``constraints.txt``)
ROOT = pathlib.Path(__file__).resolve().parents[1]
#: ``user_token``'s default: the emulator's own Music User Token (``None`` sends none)
OWN_USER_TOKEN = "own"

#: the developer key's limit in the request-budget tests, and the budget held below it. The
#: emulator counts arrivals in a sliding second. A budget sends at most one request more in any
#: second than its rate, even across a pause of the process (garbage collection, a starved CPU:
#: a request woken after its slot takes a new one); the margin is for the emulator, which shares
#: the tests' process and its pauses, and so may stamp a request sent before a pause together
#: with those sent after it
KEY_LIMIT = 10
BUDGET = 8.0


def developer_token(emulator: AppleMusicEmulator, **changes: Any) -> str:
    """
    A developer token for ``emulator``'s own key, valid for an hour; ``claims`` updates the
    claims, ``key`` signs with another key (a key object or PEM), ``kid`` names another Key ID.
    """
    now = int(time.time())
    claims = {"iss": emulator.team_id, "iat": now, "exp": now + 3600}
    claims.update(changes.pop("claims", {}))
    key = changes.pop("key", None) or emulator._private_key
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": changes.get("kid", emulator.key_id)})


def key_token(emulator: AppleMusicEmulator, connection: dict[str, Any]) -> str:
    """A developer token for the key of an ``apple_music`` connection dict (``add_developer_key``)."""
    return developer_token(
        emulator,
        key=connection["password"],
        kid=connection["extra"]["key_id"],
        claims={"iss": connection["login"]},
    )


def headers(
    emulator: AppleMusicEmulator, token: str | None = None, user_token: str | None = OWN_USER_TOKEN
) -> dict[str, str]:
    """
    The headers of an API request: ``Authorization`` with ``token`` (else a fresh
    :func:`developer_token`), ``Music-User-Token`` with ``user_token`` (the emulator's own by
    default; ``None`` leaves the header out).
    """
    sent = {"Authorization": f"Bearer {token or developer_token(emulator)}"}
    if user_token is not None:
        sent["Music-User-Token"] = emulator.user_token if user_token == OWN_USER_TOKEN else user_token
    return sent


def request(
    emulator: AppleMusicEmulator,
    method: str,
    path: str,
    *,
    token: str | None = None,
    user_token: str | None = OWN_USER_TOKEN,
    authorize: bool = True,
    **kwargs: Any,
) -> requests.Response:
    """
    One raw HTTP request to ``emulator`` (``path`` from the root, as ``next`` gives it), with the
    :func:`headers` unless ``authorize`` is false (the emulator's control paths need none);
    ``kwargs`` go to :func:`requests.request` (``params``, ``json``, ``data``).
    """
    if authorize:
        kwargs["headers"] = {**headers(emulator, token, user_token), **kwargs.get("headers", {})}
    kwargs.setdefault("timeout", 10)
    return requests.request(method, emulator.url + path, **kwargs)


def get(
    emulator: AppleMusicEmulator,
    path: str,
    *,
    token: str | None = None,
    user_token: str | None = OWN_USER_TOKEN,
    **params: Any,
) -> requests.Response:
    """``GET path`` with the query ``params``, authorized as :func:`headers` says."""
    return request(emulator, "GET", path, token=token, user_token=user_token, params=params)


def post(emulator: AppleMusicEmulator, path: str, **kwargs: Any) -> requests.Response:
    """``POST path``: the keywords of :func:`request` (``json``, ``params``, ``authorize``...)."""
    return request(emulator, "POST", path, **kwargs)


def import_file(path: pathlib.Path | str, name: str) -> Any:
    """The module a Python file defines (a DAG file, an example, a script), imported under ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def task_states(run: Any) -> dict[str, str]:
    """Each task's state in a finished ``dag.test()`` run, by task id."""
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def xcom_value(run: Any, task_id: str, key: str = "return_value") -> Any:
    """The XCom a task of a finished ``dag.test()`` run pushed, read from the metadata database."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == run.dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
            )
        ).first()
        assert row is not None, f"no XCom {key!r} from {task_id!r}"
        return XComModel.deserialize_value(row)
