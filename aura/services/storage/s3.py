"""Media in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, ...), through boto3.

The endpoint, bucket and region come only from Aura's settings (never from a request), and the
credentials from boto3's usual chain. Objects are private: a browser reaches one only through a
presigned URL Aura makes for that one object after checking the viewer's grant, or through
nginx with ``X-Accel-Redirect``.

An upload goes up while it arrives: up to one part is held in memory, and a file larger than one
part (``AURA_S3_PART_MB``) becomes a multipart upload, part by part. Until it is completed the
object does not exist; an upload that is refused or dropped is aborted, leaving nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import urlsplit

from aura.services.storage import (
    CHUNK,
    OCTET_STREAM,
    Sniff,
    Step,
    Storage,
    Upload,
    checked_name,
    is_name,
)

log = logging.getLogger(__name__)

MAX_PARTS = 10_000  # S3's limit on the parts of one multipart upload
FIRST_WINDOW = 64 * 1024  # a read after a seek asks for this much; sequential reads grow it
MAX_WINDOW = 64 * 1024 * 1024


def _missing(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("404", "NoSuchKey", "NotFound") or status == 404


class S3Upload(Upload):
    """An upload going into the bucket while it arrives (see the module's docstring)."""

    def __init__(self, storage: S3Storage, key: str | None = None, sniff: Sniff = None) -> None:
        super().__init__()
        self._sniff = sniff
        if key is not None:
            self.key = key
        self._storage = storage
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def multipart(self) -> bool:
        return self._upload_id is not None

    def _content_type(self) -> str:
        # The object's own type, from its first bytes (presigned URLs also name the row's).
        return (self._sniff(self.head) if self._sniff else None) or OCTET_STREAM

    def write(self, data: bytes) -> int:
        if self._closed or self.kept:
            raise ValueError("write to a finished upload")
        self._count(data)
        self._buffer += data
        part_size = self._storage.part_size
        while len(self._buffer) >= part_size:
            self._send_part(bytes(self._buffer[:part_size]))
            del self._buffer[:part_size]
        return len(data)

    def _send_part(self, body: bytes) -> None:
        client, bucket = self._storage.client, self._storage.bucket
        if self._upload_id is None:
            created = client.create_multipart_upload(
                Bucket=bucket, Key=self.key, ContentType=self._content_type()
            )
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        if number > MAX_PARTS:
            raise ValueError("the upload has more parts than S3 allows: raise AURA_S3_PART_MB")
        sent = client.upload_part(
            Bucket=bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=body
        )
        self._parts.append({"ETag": sent["ETag"], "PartNumber": number})

    def keep(self, key: str | None = None) -> str:
        """Complete the upload: the object exists from now on, under the upload's key."""
        if key is not None and key != self.key:
            raise ValueError("an S3 upload is kept under the key it was started with")
        checked_name(self.key)
        if self._closed or self.kept:
            raise ValueError("the upload is finished")
        client, bucket = self._storage.client, self._storage.bucket
        if self._upload_id is None:
            client.put_object(
                Bucket=bucket,
                Key=self.key,
                Body=bytes(self._buffer),
                ContentType=self._content_type(),
            )
        else:
            if self._buffer:
                self._send_part(bytes(self._buffer))
            client.complete_multipart_upload(
                Bucket=bucket,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._buffer = bytearray()
        self.kept = True
        return f"s3://{bucket}/{self.key}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._buffer = bytearray()
        if self.kept or self._upload_id is None:
            return
        try:
            self._storage.client.abort_multipart_upload(
                Bucket=self._storage.bucket, Key=self.key, UploadId=self._upload_id
            )
        except Exception:
            # Left for `aura purge` (and a bucket lifecycle rule): it is never an object.
            log.warning("could not abort the multipart upload of %s", self.key, exc_info=True)


class S3Reader:
    """A read-only, seekable file over one object, read with ranged GETs.

    A read after a seek asks for a small window (a header's worth); reads that carry on where
    the last ended ask for twice as much each time, so a whole-file copy costs few requests and
    holds only what one ``read`` returns.
    """

    def __init__(self, storage: S3Storage, name: str) -> None:
        self._storage = storage
        self._name = name
        try:
            head = storage.client.head_object(Bucket=storage.bucket, Key=name)
        except Exception as error:
            if _missing(error):
                raise FileNotFoundError(name) from None
            raise
        self.length = int(head["ContentLength"])
        self._position = 0
        self._body = None
        self._body_end = 0  # where the open body's window ends
        self._window = FIRST_WINDOW
        self.closed = False

    def _open_window(self) -> None:
        end = min(self._position + self._window, self.length)
        try:
            response = self._storage.client.get_object(
                Bucket=self._storage.bucket,
                Key=self._name,
                Range=f"bytes={self._position}-{end - 1}",
            )
        except Exception as error:
            if _missing(error):  # deleted while being read
                raise FileNotFoundError(self._name) from None
            raise
        self._body, self._body_end = response["Body"], end
        self._window = min(self._window * 2, MAX_WINDOW)

    def _drop_body(self) -> None:
        if self._body is not None:
            with contextlib.suppress(Exception):
                self._body.close()
        self._body = None

    def read(self, size: int | None = -1) -> bytes:
        remaining = self.length - self._position
        if remaining <= 0:
            return b""
        if size is None or size < 0 or size > remaining:
            size = remaining
        chunks, wanted = [], size
        while wanted > 0:
            if self._body is None or self._position >= self._body_end:
                self._drop_body()
                self._open_window()
            assert self._body is not None
            data = self._body.read(min(wanted, self._body_end - self._position))
            if not data:
                raise OSError(f"the object {self._name} ended early")
            chunks.append(data)
            self._position += len(data)
            wanted -= len(data)
        return b"".join(chunks)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._position
        elif whence == os.SEEK_END:
            offset += self.length
        offset = max(offset, 0)
        if offset != self._position:
            self._drop_body()
            self._window = FIRST_WINDOW
        self._position = offset
        return offset

    def tell(self) -> int:
        return self._position

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._drop_body()
        self.closed = True

    def __enter__(self) -> S3Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_client(endpoint: str | None, region: str, addressing: str):
    import boto3
    from botocore.config import Config as BotoConfig

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_of(endpoint, region),
        region_name=region,
        config=BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": addressing},
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 4, "mode": "standard"},
        ),
    )


class S3Storage(Storage):
    kind = "s3"

    def __init__(
        self,
        endpoint: str | None,
        bucket: str,
        region: str = "us-east-1",
        addressing: str = "path",
        part_size: int = 8 * 1024 * 1024,
    ) -> None:
        self.endpoint, self.bucket, self.region = endpoint, bucket, region
        self.addressing, self.part_size = addressing, part_size
        self.client = make_client(endpoint, region, addressing)

    def new_upload(self, sniff: Sniff = None) -> S3Upload:
        return S3Upload(self, sniff=sniff)

    def put_bytes(self, name: str, data: bytes, content_type: str = OCTET_STREAM) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=checked_name(name), Body=data, ContentType=content_type
        )

    def write_from(
        self, name: str, source: IO[bytes], step: Step = None, sniff: Sniff = None
    ) -> tuple[str, int]:
        upload = S3Upload(self, checked_name(name), sniff=sniff)
        try:
            while chunk := source.read(CHUNK):
                upload.write(chunk)
                if step:
                    step(len(chunk))
            upload.keep()
        finally:
            upload.close()
        return upload.sha256, upload.size

    def open(self, name: str) -> S3Reader:
        return S3Reader(self, checked_name(name))

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=checked_name(name))

    def stored(self) -> Iterator[tuple[str, int]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        for page in pages:
            for item in page.get("Contents", ()):
                if is_name(item["Key"]):
                    yield item["Key"], int(item["Size"])

    def size(self, name: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=checked_name(name))
        except Exception as error:
            if _missing(error):
                return None
            raise
        return int(head["ContentLength"])

    def purge_stale_uploads(self, older_than: float) -> int:
        cutoff = datetime.fromtimestamp(time.time() - older_than, UTC)
        removed = 0
        pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket)
        for page in pages:
            for upload in page.get("Uploads", ()):
                if not is_name(upload["Key"]) or upload["Initiated"] >= cutoff:
                    continue
                with contextlib.suppress(Exception):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    removed += 1
        return removed

    def presigned_url(self, name: str, seconds: int, content_type: str, method: str = "GET") -> str:
        """A URL that GETs this one object, ranges included, for ``seconds``; with ``method``
        HEAD, one that HEADs it (the method is signed: S3 refuses a HEAD of a GET's URL)."""
        return self.client.generate_presigned_url(
            "head_object" if method == "HEAD" else "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": checked_name(name),
                "ResponseContentType": content_type,
                "ResponseCacheControl": "private, no-cache",
            },
            ExpiresIn=max(int(seconds), 1),
        )


def endpoint_of(endpoint: str | None, region: str) -> str:
    # Without an endpoint, AWS itself, named in full so URLs (and the CSP) are predictable.
    return endpoint or f"https://s3.{region}.amazonaws.com"


def url_origin(endpoint: str | None, bucket: str, region: str, addressing: str) -> str:
    """The origin presigned URLs point at (for the CSP's media-src), as botocore builds them:
    the endpoint itself with path-style addressing, the bucket's own host otherwise."""
    parts = urlsplit(endpoint_of(endpoint, region))
    host = parts.netloc if addressing == "path" else f"{bucket}.{parts.netloc}"
    return f"{parts.scheme}://{host}"
