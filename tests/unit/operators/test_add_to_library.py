"""AddToLibraryOperator at construction: untemplated arguments checked, templates and XComArgs accepted."""

from __future__ import annotations

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.operators.add_to_library import AddToLibraryOperator


def test_bad_untemplated_argument_fails_at_construction() -> None:
    with pytest.raises(AppleMusicConfigError, match="on_unknown must be one of fail, warn, ignore"):
        AddToLibraryOperator(task_id="add", ids={"albums": ["1"]}, on_unknown="skip")


def test_jinja_blocks_and_xcom_args_are_accepted_at_construction() -> None:
    from airflow.sdk import DAG, task

    with DAG("construction_only", schedule=None):

        @task
        def ids() -> dict[str, list[str]]:
            return {"albums": ["1"]}

        AddToLibraryOperator(task_id="by_xcom", ids=ids())
        AddToLibraryOperator(
            task_id="by_block",
            ids="{% if params.ids %}{{ params.ids }}{% endif %}",
            storefront="{% raw %}us{% endraw %}",
        )
