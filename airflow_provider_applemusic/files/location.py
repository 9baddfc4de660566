"""
Where a file is: a URL or an ``ObjectStoragePath`` read once as a store and a path.

A :class:`Location` answers what every reader and writer of the provider asks of a path: its
normalised ``uri`` (two locations are equal when their URIs are, so a change log can refuse to
overwrite a snapshot named another way), whether a file is there, the file opened for reading or
copied whole to local disk, and the atomic writer for it (:mod:`.writers`). Three kinds:

- :class:`S3Location` (``s3://`` or ``s3a://``): the amazon provider's ``S3Hook``, never s3fs
  (see :mod:`.writers`); a connection named in the URL (``s3://conn_id@bucket/key``) is used
  when no ``storage_conn_id`` is given, else ``aws_default``; the URI leaves it out.
- :class:`LocalFileLocation` (``file://``, ``local://`` or an absolute path): the absolute path.
- :class:`StoreLocation`: any other store Airflow's ``ObjectStoragePath`` reaches (``gs://``,
  ``abfs://``, ``memory://``...), its filesystem resolved at once so that a store Airflow cannot
  reach fails before any request.
"""

from __future__ import annotations

import abc
import os
import shutil
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.writers import LocalFileWriter, S3Writer, StagedWriter

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from airflow_provider_applemusic.files.writers import ExportWriter

LOCAL_SCHEMES = ("file", "local")
S3_SCHEMES = ("s3", "s3a")
#: bytes copied at a time by the generic download
CHUNK = 1024 * 1024


class Location(abc.ABC):
    """A file in a store: its normalised ``uri``, whether it is there, reading, its atomic writer."""

    uri: str
    #: what the store calls a file, in messages ("no object at s3://...")
    noun = "file"
    #: the file's path on this machine (local files only), else None
    local_path: str | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Location):
            return NotImplemented
        return self.uri == other.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"

    @abc.abstractmethod
    def exists(self) -> bool:
        """Whether something is at the location already."""

    @abc.abstractmethod
    def open(self) -> IO[bytes]:
        """The file opened for reading (binary; close it, e.g. with ``with``); FileNotFoundError if absent."""

    def download(self, local_path: str) -> None:
        """Copy the whole file to ``local_path`` on this machine."""
        with self.open() as source, open(local_path, "wb") as out:
            shutil.copyfileobj(source, out, CHUNK)

    @abc.abstractmethod
    def writer(self, content_type: str) -> ExportWriter:
        """The atomic writer that puts a file of ``content_type`` here."""

    @abc.abstractmethod
    def files_under(self) -> list[Location]:
        """The files under this location taken as a folder (none when it is a file or absent)."""


class LocalFileLocation(Location):
    """
    A file on this machine.

    :param path: the file's path; made absolute.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self.local_path = self.path
        self.uri = f"file://{self.path}"

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def open(self) -> IO[bytes]:
        return open(self.path, "rb")

    def download(self, local_path: str) -> None:
        shutil.copyfile(self.path, local_path)

    def writer(self, content_type: str) -> ExportWriter:
        return LocalFileWriter(self.path)

    def files_under(self) -> list[Location]:
        found: list[Location] = []
        for root, dirs, names in os.walk(self.path):
            dirs.sort()
            found += [LocalFileLocation(os.path.join(root, name)) for name in sorted(names)]
        return found


class S3Location(Location):
    """
    An S3 object, reached through the amazon provider's ``S3Hook``.

    :param bucket: the bucket.
    :param key: the key.
    :param aws_conn_id: the AWS connection (None: boto3's default credentials).
    :param encrypt: write with server-side encryption (SSE-S3); not part of the identity.
    """

    noun = "object"

    def __init__(self, bucket: str, key: str, aws_conn_id: str | None, *, encrypt: bool = False) -> None:
        self.bucket = bucket
        self.key = key
        self.aws_conn_id = aws_conn_id
        self.encrypt = encrypt
        self.uri = f"s3://{bucket}/{key}"

    @cached_property
    def s3_hook(self) -> S3Hook:
        """The amazon provider's ``S3Hook`` for probing and reading."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.aws_conn_id)

    def exists(self) -> bool:
        return bool(self.s3_hook.check_for_key(self.key, self.bucket))

    def open(self) -> IO[bytes]:
        from botocore.exceptions import ClientError

        try:
            body = self.s3_hook.get_key(self.key, self.bucket).get()["Body"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(f"no object at {self.uri}") from None
            raise
        return cast("IO[bytes]", body)

    def download(self, local_path: str) -> None:
        """boto3's managed download (ranged requests in parallel for large objects)."""
        with open(local_path, "wb") as out:
            self.s3_hook.get_key(self.key, self.bucket).download_fileobj(out)

    def writer(self, content_type: str) -> ExportWriter:
        """The streaming multipart writer (managed transfer through ``S3Hook``)."""
        return S3Writer(self.bucket, self.key, self.aws_conn_id, content_type, encrypt=self.encrypt)

    def files_under(self) -> list[Location]:
        prefix = self.key.rstrip("/") + "/"
        keys = self.s3_hook.list_keys(bucket_name=self.bucket, prefix=prefix) or []
        return [
            S3Location(self.bucket, key, self.aws_conn_id, encrypt=self.encrypt)
            for key in sorted(keys)
            if not key.endswith("/")
        ]


class StoreLocation(Location):
    """
    A file in any other store Airflow's ``ObjectStoragePath`` reaches.

    :param target: the path, its filesystem resolved.
    """

    def __init__(self, target: Any) -> None:
        self.target = target
        self.uri = str(target)

    def exists(self) -> bool:
        return bool(self.target.exists())

    def open(self) -> IO[bytes]:
        return cast("IO[bytes]", self.target.open("rb"))

    def download(self, local_path: str) -> None:
        self.target.fs.get_file(self.target.path, local_path)

    def writer(self, content_type: str) -> ExportWriter:
        return StagedWriter(self.target)

    def files_under(self) -> list[Location]:
        if not self.target.is_dir():
            return []
        return [StoreLocation(path) for path in sorted(self.target.rglob("*"), key=str) if path.is_file()]


def location(path: Any, storage_conn_id: str | None = None, *, param: str = "path") -> Location:
    """
    The location of ``path``: an ``ObjectStoragePath`` or a URL (``s3://bucket/key``,
    ``file:///...`` or an absolute path, ``gs://...``). The connection is ``storage_conn_id``,
    else the one named in the URL (``s3://conn_id@bucket/key``), else the scheme's default.
    Anything else raises a config error naming ``param``.
    """
    from airflow.sdk import ObjectStoragePath

    if isinstance(path, ObjectStoragePath):
        url = str(path)
        conn_id = storage_conn_id or getattr(path, "conn_id", None)
    elif isinstance(path, str) and path.strip():
        url = path.strip()
        conn_id = storage_conn_id
    else:
        raise AppleMusicConfigError(
            f"{param} must be an ObjectStoragePath or a URL such as 's3://bucket/key.jsonl' or "
            f"'file:///data/key.jsonl', got {path!r}"
        )
    if url.startswith("/"):
        return LocalFileLocation(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in LOCAL_SCHEMES:
        return LocalFileLocation(parts.path)
    if scheme in S3_SCHEMES:
        user, _, bucket = parts.netloc.rpartition("@")
        key = parts.path.lstrip("/")
        if not bucket or not key or key.endswith("/"):
            raise AppleMusicConfigError(f"{param} must name a bucket and a key, got {url!r}")
        return S3Location(bucket, key, conn_id or user or "aws_default")
    if not scheme or not parts.path.strip("/"):
        raise AppleMusicConfigError(
            f"{param} must be a URL with a scheme and a file name, such as "
            f"'s3://bucket/key.jsonl', got {url!r}"
        )
    try:
        target = path if isinstance(path, ObjectStoragePath) else ObjectStoragePath(url, conn_id=conn_id)
        target.fs  # noqa: B018 - resolve the filesystem now, to fail before any request
    except (ValueError, ImportError, AttributeError) as err:
        raise AppleMusicConfigError(
            f"{param} {url!r} names a store Airflow cannot reach here: {err}"
        ) from None
    return StoreLocation(target)
