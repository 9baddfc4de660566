"""
Staged parts of an export that a later try can go on from: in the destination's store, never at
the target until committed.

A stage takes the file part by part (each part with a *sidecar*: the ids it holds and, for
Parquet, its row-group metadata), tells which parts are durable (so that the caller records them
in its checkpoint), and commits them as the target in one step; its :meth:`Stage.record` (a small
JSON-able dict) lets a stage of a later process reopen it (:func:`reopen_stage`) or discard it.

- S3: one multipart upload *to the target key* (the object appears only when it is completed;
  an aborted or abandoned upload never does); parts of at least 5 MiB (S3's minimum but the
  last), uploaded in the background, at most ``STAGED_PARTS_IN_MEMORY`` at once; sidecars as small
  objects under ``<key>.applemusic-staged/<upload>/``, deleted on commit or discard.
- Local files: a folder beside the target (``.<name>.applemusic-staged-<token>``) holding the
  file so far and the sidecars; checked (size, CRC-32) when reopened; moved into place on commit.
- Other stores (``gs://``, ``memory://``...): the same folder in this machine's temporary
  directory, uploaded with one ``put_file`` on commit (a try on another machine starts over).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from airflow_provider_applemusic.exceptions import AppleMusicConfigError
from airflow_provider_applemusic.files.location import LocalFileLocation, S3Location, StoreLocation
from airflow_provider_applemusic.files.writers import PART_SIZE

if TYPE_CHECKING:
    from airflow_provider_applemusic.files.location import Location

#: a local stage is checkpointed after each part of about this many bytes (a few pages)
LOCAL_PART_SIZE = 256 * 1024
#: S3: parts being uploaded at once; the next page waits for the oldest beyond this (each part
#: is held in memory until S3 has it)
STAGED_PARTS_IN_MEMORY = 2
STAGED_MARK = "applemusic-staged"


class Stage:
    """The staged parts of one export file (see the module)."""

    #: how many bytes a part holds, at least (but the last)
    part_size: int = PART_SIZE
    uri: str

    def __init__(self) -> None:
        #: the caller's marks of the parts made durable, oldest first, not yet taken
        self._durable: list[Any] = []

    def prepare(self) -> None:
        """Set up the store's client without touching the store (before the first page)."""

    def start(self) -> None:
        """Open a new stage in the store."""
        raise NotImplementedError

    def load(self, record: dict[str, Any]) -> None:
        """Take the stage of ``record`` (:meth:`record` of an earlier stage), not yet checked."""
        raise NotImplementedError

    def reopen(self) -> list[dict[str, Any]]:
        """Check that the stage is whole; its parts' sidecars, in order (ValueError: unusable)."""
        raise NotImplementedError

    def add(self, data: bytes, sidecar: dict[str, Any], mark: Any) -> None:
        """
        Stage ``data`` (the bytes after those staged so far) with ``sidecar``.

        :param data: the part's bytes.
        :param sidecar: ``{"ids": [...], "metas": [...]}`` of the part.
        :param mark: given back by :meth:`durable` once the part is durable.
        """
        raise NotImplementedError

    def flush(self) -> None:
        """Wait for the parts being staged (a failed try keeps what it can)."""

    def durable(self) -> Any:
        """The mark of the last part made durable since the last call (None: none)."""
        marks, self._durable = self._durable, []
        return marks[-1] if marks else None

    def record(self) -> dict[str, Any]:
        """What reopens or discards this stage later (JSON-able): the durable parts only."""
        raise NotImplementedError

    def commit(self, tail: bytes, *, replace: bool) -> int:
        """
        Stage ``tail``, then make the whole file the target at once; its size. Staged parts go
        once committed; a failure leaves them for the caller to keep (for the next try) or discard.
        """
        raise NotImplementedError

    def discard(self) -> None:
        """Remove what is staged (the target is left as it is)."""
        raise NotImplementedError


def new_stage(target: Location, content_type: str, *, encrypt: bool = False) -> Stage:
    """
    A stage for ``target`` (not yet started: :meth:`Stage.start`).

    :param target: where the file goes.
    :param content_type: the file's ``Content-Type``.
    :param encrypt: server-side encryption on S3 (also when the location asks for it).
    """
    if isinstance(target, S3Location):
        return S3Stage(target, content_type, encrypt=encrypt or target.encrypt)
    if isinstance(target, LocalFileLocation):
        return LocalStage(target.path)
    if isinstance(target, StoreLocation):
        return LocalStage(os.path.join(tempfile.gettempdir(), _safe_name(target.uri)), upload_to=target)
    raise AppleMusicConfigError(f"{target.uri}: no stage for this store")


def reopen_stage(target: Location, content_type: str, record: dict[str, Any]) -> Stage:
    """
    The stage of ``record`` for ``target``, not yet checked (:meth:`Stage.reopen`).

    :param target: where the file goes.
    :param content_type: the file's ``Content-Type``.
    :param record: :meth:`Stage.record` of the earlier stage.
    """
    stage = new_stage(target, content_type)
    stage.load(record)
    return stage


def _safe_name(uri: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in uri)[-120:]


class LocalStage(Stage):
    """
    A local file's stage: a folder beside it holding the file so far (``data``) and one sidecar
    per part (``sidecars.jsonl``); parts are durable as soon as written (a process killed leaves
    them; what a crashed machine lost is seen by the size and CRC check).

    :param path: the target file.
    :param upload_to: a store location to upload the committed file to (None: ``path`` is the target).
    """

    part_size = LOCAL_PART_SIZE

    def __init__(self, path: str, upload_to: StoreLocation | None = None) -> None:
        super().__init__()
        self.path = os.path.abspath(path)
        self.upload_to = upload_to
        self.uri = upload_to.uri if upload_to is not None else f"file://{self.path}"
        self.folder = ""
        self.size = 0
        self.crc = 0
        self.sidecar_size = 0

    def load(self, record: dict[str, Any]) -> None:
        self.folder = str(record["folder"])
        self.size, self.crc, self.sidecar_size = (
            int(record["size"]),
            int(record["crc"]),
            int(record["sidecars"]),
        )

    def start(self) -> None:
        parent, name = os.path.split(self.path)
        os.makedirs(parent, exist_ok=True)
        self.folder = os.path.join(parent, f".{name}.{STAGED_MARK}-{secrets.token_hex(6)}")
        os.makedirs(self.folder)
        open(self._data, "wb").close()
        open(self._sidecars, "wb").close()

    @property
    def _data(self) -> str:
        return os.path.join(self.folder, "data")

    @property
    def _sidecars(self) -> str:
        return os.path.join(self.folder, "sidecars.jsonl")

    def reopen(self) -> list[dict[str, Any]]:
        if not os.path.isdir(self.folder) or os.path.getsize(self._data) < self.size:
            raise ValueError(f"the staged file {self._data} is missing or shorter than recorded")
        if os.path.getsize(self._sidecars) < self.sidecar_size:
            raise ValueError(f"the staged sidecars {self._sidecars} are shorter than recorded")
        crc = 0
        with open(self._data, "rb") as staged:
            left = self.size
            while left:
                block = staged.read(min(left, 1 << 20))
                crc = zlib.crc32(block, crc)
                left -= len(block)
        if crc != self.crc:
            raise ValueError(f"the staged file {self._data} differs from what was recorded (CRC-32)")
        for name, size in ((self._data, self.size), (self._sidecars, self.sidecar_size)):
            os.truncate(name, size)
        with open(self._sidecars, "rb") as lines:
            return [json.loads(line) for line in lines]

    def add(self, data: bytes, sidecar: dict[str, Any], mark: Any) -> None:
        line = (json.dumps(sidecar, separators=(",", ":")) + "\n").encode("utf-8")
        with open(self._data, "ab") as out:
            out.write(data)
        with open(self._sidecars, "ab") as out:
            out.write(line)
        self.size += len(data)
        self.crc = zlib.crc32(data, self.crc)
        self.sidecar_size += len(line)
        self._durable.append(mark)

    def record(self) -> dict[str, Any]:
        return {
            "kind": "local",
            "folder": self.folder,
            "size": self.size,
            "crc": self.crc,
            "sidecars": self.sidecar_size,
        }

    def commit(self, tail: bytes, *, replace: bool) -> int:
        with open(self._data, "ab") as out:
            out.write(tail)
            out.flush()
            os.fsync(out.fileno())
        size = self.size + len(tail)
        appeared = AppleMusicConfigError(
            f"{self.uri} appeared while it was written and replace=False: left as it is"
        )
        if self.upload_to is not None:
            if not replace and self.upload_to.exists():
                self.discard()
                raise appeared
            self.upload_to.target.fs.put_file(self._data, self.upload_to.target.path)
        elif replace:
            os.replace(self._data, self.path)
        else:
            try:
                os.link(self._data, self.path)
            except FileExistsError:
                self.discard()
                raise appeared from None
        self.discard()
        return size

    def discard(self) -> None:
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


class S3Stage(Stage):
    """
    An S3 object's stage: a multipart upload to its key, parts uploaded in the background.

    :param target: the object.
    :param content_type: its ``Content-Type``.
    :param encrypt: server-side encryption (SSE-S3).
    """

    def __init__(self, target: S3Location, content_type: str, *, encrypt: bool = False) -> None:
        super().__init__()
        self.target = target
        self.bucket, self.key, self.uri = target.bucket, target.key, target.uri
        self.content_type = content_type
        self.encrypt = encrypt
        self.upload_id = ""
        self.completed = False
        #: a part upload failed: no later part is durable
        self._broken = False
        #: (number, ETag, size) of the parts known durable, in order
        self.parts: list[tuple[int, str, int]] = []
        #: the bytes of the next part, as they came (joined once, when uploaded)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._pending_sidecars: list[dict[str, Any]] = []
        self._uploads: list[tuple[Future[tuple[int, str, int]], Any]] = []
        self._pool: ThreadPoolExecutor | None = None

    @property
    def client(self) -> Any:
        """The S3 client of the amazon provider's ``S3Hook``."""
        return self.target.s3_hook.get_conn()

    def prepare(self) -> None:
        """Build the S3 client now (about 0.3 s), so that it is not built while pages come in."""
        _ = self.client

    def load(self, record: dict[str, Any]) -> None:
        self.upload_id = str(record["upload_id"])
        self.parts = [(int(n), str(etag), int(size)) for n, etag, size in record["parts"]]

    def start(self) -> None:
        extra = {"ServerSideEncryption": "AES256"} if self.encrypt else {}
        answer = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self.key, ContentType=self.content_type, **extra
        )
        self.upload_id = answer["UploadId"]

    def _sidecar_key(self, number: int) -> str:
        token = _token(self.upload_id)
        return f"{self.key}.{STAGED_MARK}/{token}/part-{number:05d}.json.gz"

    def reopen(self) -> list[dict[str, Any]]:
        from botocore.exceptions import ClientError

        etags: dict[int, str] = {}
        try:
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
            )
            for page in pages:
                etags.update((part["PartNumber"], part["ETag"]) for part in page.get("Parts", []))
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            raise ValueError(f"the multipart upload is gone ({code})") from None
        if any(etags.get(number) != etag for number, etag, _ in self.parts):
            raise ValueError("the multipart upload lacks parts that were recorded")
        sidecars = []
        for number, _, _ in self.parts:
            body = self.client.get_object(Bucket=self.bucket, Key=self._sidecar_key(number))["Body"].read()
            sidecars.append(json.loads(gzip.decompress(body)))
        return sidecars

    def add(self, data: bytes, sidecar: dict[str, Any], mark: Any) -> None:
        self._take(data)
        self._pending_sidecars.append(sidecar)
        if self._pending_size >= self.part_size:
            self._upload(mark)
        self._collect(block=len(self._uploads) >= STAGED_PARTS_IN_MEMORY)

    def _take(self, data: bytes) -> None:
        if data:
            self._pending.append(data)
            self._pending_size += len(data)

    def _upload(self, mark: Any) -> None:
        number = len(self.parts) + len(self._uploads) + 1
        # a part made of one segment goes as it is: no copy of its bytes
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        sidecar = _merge(self._pending_sidecars)
        self._pending, self._pending_size, self._pending_sidecars = [], 0, []
        if self._pool is None:
            self._pool = ThreadPoolExecutor(STAGED_PARTS_IN_MEMORY, thread_name_prefix="apple-music-part")
        self._uploads.append((self._pool.submit(self._put_part, number, data, sidecar), mark))

    def _put_part(self, number: int, data: bytes, sidecar: dict[str, Any]) -> tuple[int, str, int]:
        body = gzip.compress(json.dumps(sidecar, separators=(",", ":")).encode("utf-8"), mtime=0)
        extra = {"ServerSideEncryption": "AES256"} if self.encrypt else {}
        self.client.put_object(Bucket=self.bucket, Key=self._sidecar_key(number), Body=body, **extra)
        answer = self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )
        return number, answer["ETag"], len(data)

    def _collect(self, *, block: bool) -> None:
        """
        Move the parts uploaded, in order, to :attr:`parts` (waiting for the oldest if ``block``).
        Once a part failed, none after it becomes durable: the file would lack the failed one.
        """
        while self._uploads and (block or self._uploads[0][0].done()):
            future, mark = self._uploads.pop(0)
            block = False
            if self._broken:
                future.cancel()
                continue
            try:
                self.parts.append(future.result())
            except BaseException:
                self._broken = True
                raise
            self._durable.append(mark)

    def flush(self) -> None:
        while self._uploads:
            try:
                self._collect(block=True)
            except Exception:  # noqa: BLE001 - a failed part ends what is durable
                continue

    def durable(self) -> Any:
        """The mark of the last part uploaded since the last call (None: none); does not wait."""
        self._collect(block=False)
        return super().durable()

    def record(self) -> dict[str, Any]:
        return {"kind": "s3", "upload_id": self.upload_id, "parts": [list(part) for part in self.parts]}

    def commit(self, tail: bytes, *, replace: bool) -> int:
        """As :meth:`Stage.commit`; a part that fails leaves the stage for the caller to keep or discard."""
        self._take(tail)
        if not (self._pending or self.parts or self._uploads):
            try:
                return self._put_empty(replace=replace)
            finally:
                self.discard()
        if self._pending:
            self._upload(None)
        while self._uploads:
            self._collect(block=True)
        if not replace and self.target.exists():
            self.discard()
            raise AppleMusicConfigError(
                f"{self.uri} appeared while it was written and replace=False: left as it is"
            )
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag, _ in self.parts]},
        )
        self.completed = True  # nothing to abort: the sidecars go
        self.discard()
        return sum(part[2] for part in self.parts)

    def _put_empty(self, *, replace: bool) -> int:
        """An empty file (an empty JSON Lines export) is one PUT: no upload has an empty part."""
        if not replace and self.target.exists():
            raise AppleMusicConfigError(
                f"{self.uri} appeared while it was written and replace=False: left as it is"
            )
        extra = {"ServerSideEncryption": "AES256"} if self.encrypt else {}
        self.client.put_object(
            Bucket=self.bucket, Key=self.key, Body=b"", ContentType=self.content_type, **extra
        )
        return 0

    def discard(self) -> None:
        for future, _ in self._uploads:
            future.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._uploads = []
        if not self.upload_id:
            return  # never started
        client = self.client
        if not self.completed:
            from botocore.exceptions import ClientError

            try:
                client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
        prefix = self._sidecar_key(0).rsplit("/", 1)[0] + "/"
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                client.delete_object(Bucket=self.bucket, Key=entry["Key"])


def _token(text: str) -> str:
    """A short, path-safe token of ``text`` (an upload id)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _merge(sidecars: list[dict[str, Any]]) -> dict[str, Any]:
    """The sidecar of a part made of several segments: their ids and metadata, in order."""
    return {
        "ids": [i for sidecar in sidecars for i in sidecar.get("ids", [])],
        "metas": [m for sidecar in sidecars for m in sidecar.get("metas", [])],
    }
