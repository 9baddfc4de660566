"""LibraryAlbumsToS3Operator at construction: untemplated parameters checked, Jinja blocks accepted."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.operators.library_albums_to_s3 import LibraryAlbumsToS3Operator


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page_size": 0}, "page_size must be an integer from 1 to 100"),
        ({"page_size": 101}, "page_size"),
        ({"file_format": "csv"}, "file_format must be one of jsonl, json"),
        ({"compression": "zip"}, "compression must be None or 'gzip'"),
        ({"max_concurrency": 0}, "max_concurrency must be an integer"),
        ({"include": ["cat alog"]}, "include must be relationship names"),
        ({"extend": ["date added"]}, "extend must be"),
    ],
)
def test_bad_untemplated_parameters_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    kwargs = {"s3_bucket": "b", "s3_key": "k.jsonl", **kwargs}
    with pytest.raises(AppleMusicConfigError, match=message):
        LibraryAlbumsToS3Operator(task_id="export", **kwargs)


def test_jinja_blocks_are_accepted_at_construction() -> None:
    LibraryAlbumsToS3Operator(
        task_id="export",
        s3_key="{% if true %}s3://b/k.jsonl{% endif %}",
        added_after="{% if true %}2024-01-01{% endif %}",
        language="{% raw %}en-US{% endraw %}",
    )
