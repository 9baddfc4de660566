"""
Atomic writers, one per kind of store (``files.location`` picks the one for a path).

Every writer takes the file as an iterator of byte chunks and makes it appear only complete: on
any failure (raised by the iterator or by the store) nothing new appears and a file already at
the destination is untouched.

- S3 (``s3://``): the amazon provider's ``S3Hook`` with boto3's managed transfer, streaming; a
  multipart upload is completed only at the end and aborted on failure (one PUT under 5 MiB).
  ``ObjectStoragePath`` on ``s3://`` would need s3fs, which commits a partial object when a
  ``with`` block fails unless opened with ``autocommit=False`` and discarded by hand, is not
  installed with the amazon provider, and pins an older botocore than ours.
- Local files (``file://`` or an absolute path): a temporary file in the target folder, then
  ``os.replace`` (or ``os.link`` with ``replace=False``, which refuses an existing file).
- Any other ``ObjectStoragePath`` (``gs://``, ``abfs://``, ``memory://``...): the file is staged
  in a local temporary file, then sent with one ``put_file``; object stores make a single upload
  appear whole (GCS and Azure commit an object only when its upload completes).
"""

from __future__ import annotations

import io
import os
import tempfile
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_applemusic.exceptions import AppleMusicConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

#: multipart part size, and the size under which one PUT is made instead
PART_SIZE = 5 * 1024 * 1024
#: parts held in memory at once by the managed transfer
PARTS_IN_MEMORY = 4


class ExportWriter(Protocol):
    """An atomic destination."""

    uri: str

    def exists(self) -> bool:
        """Whether a file is at the destination already."""

    def prepare(self) -> None:
        """Set up the store's client, without touching the store (done before the first page)."""

    def write(self, chunks: Iterable[bytes], *, replace: bool) -> int:
        """Write the file; return its size. ``replace=False`` refuses an existing file."""


class IteratorReader(io.RawIOBase):
    """A read-only, non-seekable file object over an iterator of bytes; keeps its first error."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._buffer = b""
        self.bytes_read = 0
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        view = memoryview(target)
        try:
            while not self._buffer:
                self._buffer = next(self._chunks)
        except StopIteration:
            return 0
        except BaseException as err:
            self.error = err
            raise
        size = min(len(view), len(self._buffer))
        view[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        self.bytes_read += size
        return size


class S3Writer:
    """
    An S3 object, streamed through the amazon provider's ``S3Hook`` (managed multipart upload).

    :param bucket: the bucket.
    :param key: the key.
    :param aws_conn_id: the AWS connection.
    :param content_type: the object's ``Content-Type``.
    :param encrypt: server-side encryption (SSE-S3).
    """

    def __init__(
        self, bucket: str, key: str, aws_conn_id: str | None, content_type: str, *, encrypt: bool = False
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.aws_conn_id = aws_conn_id
        self.content_type = content_type
        self.encrypt = encrypt
        self.uri = f"s3://{bucket}/{key}"

    @cached_property
    def s3_hook(self) -> S3Hook:
        """The amazon provider's ``S3Hook``, set up for streaming multipart uploads."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        hook = S3Hook(
            aws_conn_id=self.aws_conn_id,
            extra_args={"ContentType": self.content_type},
            transfer_config_args={
                "multipart_threshold": PART_SIZE,
                "multipart_chunksize": PART_SIZE,
                "max_concurrency": PARTS_IN_MEMORY,
                "use_threads": True,
            },
        )
        # boto3's TransferConfig does not take it as an argument; s3transfer reads the attribute
        hook.transfer_config.max_in_memory_upload_chunks = PARTS_IN_MEMORY
        return hook

    def exists(self) -> bool:
        return bool(self.s3_hook.check_for_key(self.key, self.bucket))

    def prepare(self) -> None:
        """Build the S3 client now (about 0.3 s), so that it is not built while pages come in."""
        self.s3_hook.get_conn()

    def write(self, chunks: Iterable[bytes], *, replace: bool) -> int:
        reader = IteratorReader(chunks)
        stream = io.BufferedReader(reader, buffer_size=1 << 20)
        try:
            self.s3_hook.load_file_obj(
                stream, self.key, bucket_name=self.bucket, replace=replace, encrypt=self.encrypt
            )
        except Exception:
            if reader.error is not None:
                raise reader.error from None
            raise
        return reader.bytes_read


class LocalFileWriter:
    """
    A local file: written to a temporary file beside it, then moved into place.

    :param path: the file's path.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self.uri = f"file://{self.path}"

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def prepare(self) -> None:
        """Nothing to set up for a local file."""

    def write(self, chunks: Iterable[bytes], *, replace: bool) -> int:
        folder = os.path.dirname(self.path)
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".applemusic-", suffix=".part")
        written = 0
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            if replace:
                os.replace(temporary, self.path)
            else:
                try:
                    os.link(temporary, self.path)
                except FileExistsError:
                    raise AppleMusicConfigError(
                        f"{self.uri} appeared while it was written and replace=False: left as it is"
                    ) from None
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return written


class StagedWriter:
    """
    Any other store Airflow's ``ObjectStoragePath`` reaches: staged locally, then one upload.

    :param target: the destination.
    """

    def __init__(self, target: Any) -> None:
        self.target = target
        self.uri = str(target)

    def exists(self) -> bool:
        return bool(self.target.exists())

    def prepare(self) -> None:
        """Nothing to set up: the store is reached once, at the end."""

    def write(self, chunks: Iterable[bytes], *, replace: bool) -> int:
        staged = LocalFileWriter(os.path.join(tempfile.mkdtemp(prefix="applemusic-export-"), "staged"))
        try:
            written = staged.write(chunks, replace=True)
            if not replace and self.exists():
                raise AppleMusicConfigError(
                    f"{self.uri} appeared while it was written and replace=False: left as it is"
                )
            self.target.fs.put_file(staged.path, self.target.path)
        finally:
            if os.path.exists(staged.path):
                os.unlink(staged.path)
            os.rmdir(os.path.dirname(staged.path))
        return written
