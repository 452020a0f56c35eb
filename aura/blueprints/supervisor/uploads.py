"""Multipart uploads written straight into the media folder while they arrive.

File parts of an upload become ``UploadSpool``s in the media folder (hashed on the way), not
memory or /tmp; each is closed (and removed unless kept) when the request ends, also when the
connection dropped half-way.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import g, request
from werkzeug.datastructures import FileStorage
from werkzeug.formparser import FormDataParser

from aura.services.media import UploadSpool, media_dir


class MediaFormParser(FormDataParser):
    """werkzeug's form parser, writing file parts into ``directory`` as UploadSpools.

    Every spool is added to ``spools`` so the request can close them all when it ends, also
    when parsing failed half-way (a dropped connection).
    """

    def __init__(
        self, stream_factory=None, *args: Any, directory: str, spools: list, **kwargs: Any
    ) -> None:
        def factory(
            total_content_length=None, content_type=None, filename=None, content_length=None
        ) -> UploadSpool:
            spool = UploadSpool(directory)
            spools.append(spool)
            return spool

        super().__init__(factory, *args, **kwargs)


def spool_uploads() -> None:
    """Make this request's file parts go into the media folder. Call before anything reads
    the form (the CSRF check does, in a ``before_request`` hook)."""
    g.upload_spools = []
    request.form_data_parser_class = partial(
        MediaFormParser, directory=media_dir(), spools=g.upload_spools
    )


def close_uploads(_error: BaseException | None = None) -> None:
    for spool in g.pop("upload_spools", ()):
        spool.close()


def spool_of(file: FileStorage | None) -> UploadSpool | None:
    """The spool behind an uploaded file field, if a file was sent."""
    if file is None or not isinstance(file.stream, UploadSpool):
        return None
    return file.stream
