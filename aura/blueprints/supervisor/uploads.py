"""Multipart form uploads written straight into the media storage while they arrive.

File parts of an upload become ``Upload``s (aura.services.media): a temporary file in the media
folder, or a multipart upload into the bucket, hashed on the way, never memory or /tmp; each is
closed (removed or aborted unless kept) when the request ends, also when the connection dropped
half-way.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import g, request
from werkzeug.datastructures import FileStorage
from werkzeug.formparser import FormDataParser

from aura.services import media
from aura.services.media import Storage, Upload


class MediaFormParser(FormDataParser):
    """werkzeug's form parser, writing file parts into ``storage`` as Uploads.

    Every spool is added to ``spools`` so the request can close them all when it ends, also
    when parsing failed half-way (a dropped connection).
    """

    def __init__(
        self, stream_factory=None, *args: Any, storage: Storage, spools: list, **kwargs: Any
    ) -> None:
        def factory(
            total_content_length=None, content_type=None, filename=None, content_length=None
        ) -> Upload:
            spool = storage.new_upload(media.content_type_of)
            spools.append(spool)
            return spool

        super().__init__(factory, *args, **kwargs)


def spool_uploads() -> None:
    """Make this request's file parts go into the media storage. Call before anything reads
    the form (the CSRF check does, in a ``before_request`` hook)."""
    g.upload_spools = []
    request.form_data_parser_class = partial(
        MediaFormParser, storage=media.current(), spools=g.upload_spools
    )


def close_uploads(_error: BaseException | None = None) -> None:
    for spool in g.pop("upload_spools", ()):
        spool.close()


def spool_of(file: FileStorage | None) -> Upload | None:
    """The upload behind an uploaded file field, if a file was sent."""
    if file is None or not isinstance(file.stream, Upload):
        return None
    return file.stream
