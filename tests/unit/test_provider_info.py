"""The provider as Airflow's providers managers see it."""

from __future__ import annotations

import warnings

from airflow_provider_applemusic.get_provider_info import get_provider_info

#: the connection's extra fields, as the issue names them
EXTRA_FIELDS = {
    "key_id",
    "music_user_token",
    "private_key_path",
    "developer_token",
    "storefront",
    "token_lifetime_seconds",
    "timeout_seconds",
    "max_attempts",
    "max_retry_seconds",
    "requests_per_second",
    "budget_store",
}


def test_provider_info_validates_against_airflows_schema() -> None:
    import json
    from importlib.resources import files

    import jsonschema

    schema = json.loads(files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_providers_manager_lists_provider_and_resolves_hook() -> None:
    from airflow.providers_manager import ProvidersManager

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        manager = ProvidersManager()
        assert "airflow-provider-applemusic" in manager.providers
        hook = manager.hooks["apple_music"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_provider_applemusic.hooks.apple_music.AppleMusicHook"
    assert hook.connection_id_attribute_name == "apple_music_conn_id"
    assert hook.hook_name == "Apple Music"


def test_task_runtime_manager_resolves_hook() -> None:
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook = ProvidersManagerTaskRuntime().hooks["apple_music"]
    assert hook is not None
    assert hook.package_name == "airflow-provider-applemusic"


def test_connection_form_fields_and_behaviour_are_registered() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    behaviour = manager.field_behaviours["apple_music"]
    assert behaviour["hidden_fields"] == ["schema", "port"]
    assert behaviour["relabeling"]["login"] == "Team ID"
    assert behaviour["relabeling"]["password"] == "Private key (.p8)"
    widgets = manager.connection_form_widgets
    registered = {w.field_name for k, w in widgets.items() if k.startswith("extra__apple_music__")}
    assert registered == EXTRA_FIELDS
    assert widgets["extra__apple_music__music_user_token"].is_sensitive
    assert widgets["extra__apple_music__developer_token"].is_sensitive
    assert not widgets["extra__apple_music__key_id"].is_sensitive
    assert "10-character" in widgets["extra__apple_music__key_id"].field["description"]


def test_every_operator_and_trigger_module_is_listed() -> None:
    import importlib
    import pkgutil

    from airflow.models import BaseOperator
    from airflow.triggers.base import BaseTrigger

    import airflow_provider_applemusic.operators as operators
    import airflow_provider_applemusic.triggers as triggers

    info = get_provider_info()
    for package, key, base in ((operators, "operators", BaseOperator), (triggers, "triggers", BaseTrigger)):
        listed = {module for entry in info[key] for module in entry["python-modules"]}
        defining = set()
        for found in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            module = importlib.import_module(found.name)
            if any(
                isinstance(value, type) and issubclass(value, base) and value.__module__ == found.name
                for value in vars(module).values()
            ):
                defining.add(found.name)
        assert defining, key
        assert listed == defining, key
