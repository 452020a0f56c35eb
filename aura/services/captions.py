"""Captions of a video: WebVTT files (SRT is converted on upload), one per language.

A caption file is text a browser reads as cues, never as a page: its content is checked to be
WebVTT (or SRT, rewritten as WebVTT) before it is stored, and it is served as ``text/vtt``
with ``nosniff`` under the same access grant as the video.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from aura.errors import Invalid, NotFound
from aura.extensions import db
from aura.models import Caption
from aura.services import audit, media, values, videos
from aura.services.media import SmallFile, caption_name, store_caption

MAX_CAPTION_BYTES = 1024 * 1024
LABEL_MAX = 100
# A well-formed BCP 47 tag, the common part: language, script, region, variants (RFC 5646).
LANGUAGE_TAG = re.compile(
    r"[a-z]{2,3}(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*",
    re.ASCII | re.IGNORECASE,
)
_TIMING = re.compile(
    r"((?:[0-9]{1,3}:)?[0-9]{2}:[0-9]{2})[.,]([0-9]{3})[ \t]+-->[ \t]+"
    r"((?:[0-9]{1,3}:)?[0-9]{2}:[0-9]{2})[.,]([0-9]{3})(.*)",
    re.ASCII,
)
NOT_SUBTITLES = "That file is not WebVTT or SRT subtitles. Upload a .vtt or .srt file."
# Names for the languages people upload most, so the player's menu reads in words.
LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fr": "French",
    "hi": "Hindi", "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch",
    "pl": "Polish", "pt": "Portuguese", "ru": "Russian", "sv": "Swedish", "tr": "Turkish",
    "uk": "Ukrainian", "zh": "Chinese",
}  # fmt: skip


def parse_language(raw: str | None) -> str:
    """A BCP 47 language tag such as ``en``, ``pt-BR`` or ``zh-Hant``, in its usual case."""
    text = (raw or "").strip()
    if len(text) > 35 or not LANGUAGE_TAG.fullmatch(text):
        raise Invalid.field(
            "language", "Give the language as a code such as en, fr or pt-BR (BCP 47)."
        )
    parts = text.split("-")
    tidy = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            tidy.append(part.title())
        elif len(part) == 2:
            tidy.append(part.upper())
        else:
            tidy.append(part.lower())
    return "-".join(tidy)


def _text(data: bytes) -> str:
    if not data:
        raise Invalid.field("file", "That file is empty.")
    if len(data) > MAX_CAPTION_BYTES:
        raise Invalid.field("file", "A caption file can be at most 1 MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid.field("file", "Caption files must be UTF-8 text.") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if any(not ch.isprintable() and ch not in "\n\t" for ch in text):
        raise Invalid.field("file", NOT_SUBTITLES)
    return text


def _from_srt(text: str) -> str | None:
    """SRT rewritten as WebVTT, or None when it is not SRT (no cue has a timing line)."""
    cues = []
    for block in re.split(r"\n[ \t]*\n", text.strip()):
        lines = block.split("\n")
        if lines and lines[0].strip().isdecimal() and lines[0].strip().isascii():
            lines = lines[1:]
        if not lines:
            continue
        timing = _TIMING.fullmatch(lines[0].strip())
        if timing is None:
            return None
        start, start_ms, end, end_ms, _settings = timing.groups()
        body = [line for line in lines[1:] if "-->" not in line]
        cues.append(f"{start}.{start_ms} --> {end}.{end_ms}\n" + "\n".join(body))
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n" if cues else None


def to_webvtt(data: bytes) -> str:
    """Checked WebVTT text from an uploaded file (WebVTT, or SRT converted); else Invalid."""
    text = _text(data)
    if re.match(r"WEBVTT(?:[ \t\n]|$)", text):
        if not any(_TIMING.fullmatch(line.strip()) for line in text.split("\n")):
            raise Invalid.field("file", "That WebVTT file has no cues.")
        return text if text.endswith("\n") else text + "\n"
    converted = _from_srt(text)
    if converted is None:
        raise Invalid.field("file", NOT_SUBTITLES)
    return converted


def add_caption(
    video_id: uuid.UUID,
    data: bytes | None,
    language: str | None,
    label: str | None = None,
    *,
    actor_id: int | None = None,
    client_ip: str | None = None,
) -> Caption:
    """Attach a caption file to a video. Commits; a refused file leaves nothing behind."""
    video = videos.get_video(video_id)
    errors: dict[str, str] = {}
    checked: dict[str, str] = {}
    for name, check in (
        ("language", lambda: parse_language(language)),
        ("file", lambda: to_webvtt(data or b"")),
    ):
        try:
            checked[name] = check()
        except Invalid as invalid:
            errors.update(invalid.fields)
    name = values.one_line(label)
    if len(name) > LABEL_MAX:
        errors["label"] = f"Keep the label under {LABEL_MAX} characters."
    if errors:
        raise Invalid(fields=errors)
    tag = checked["language"]
    name = name or LANGUAGE_NAMES.get(tag.split("-")[0], tag)
    key = store_caption(checked["file"])
    try:
        caption = Caption(
            video_id=video.id,
            language=tag,
            label=name,
            storage_key=key,
            size=len(checked["file"].encode("utf-8")),
        )
        db.session.add(caption)
        audit.record(
            "caption.add",
            actor_id=actor_id,
            target=f"video:{video.id}",
            detail={"language": tag, "label": name},
            client_ip=client_ip,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        media.remove_captions(key)
        raise
    return caption


def _caption(video_id: uuid.UUID, caption_id: int) -> Caption:
    caption = db.session.get(Caption, caption_id) if values.is_id(caption_id) else None
    if caption is None or caption.video_id != video_id:
        raise NotFound("There is no such caption file.")
    return caption


def remove_caption(
    video_id: uuid.UUID,
    caption_id: int,
    *,
    actor_id: int | None = None,
    client_ip: str | None = None,
) -> None:
    """Remove a caption from a video, then its file. Commits."""
    caption = _caption(video_id, caption_id)
    key = caption.storage_key
    audit.record(
        "caption.remove",
        actor_id=actor_id,
        target=f"video:{video_id}",
        detail={"language": caption.language, "label": caption.label},
        client_ip=client_ip,
    )
    db.session.delete(caption)
    db.session.commit()
    media.remove_captions(key)


def captions_of(video_id: uuid.UUID) -> Sequence[Caption]:
    """A video's captions, in the order they were added (the first is the player's default)."""
    return db.session.scalars(
        sa.select(Caption).where(Caption.video_id == video_id).order_by(Caption.id)
    ).all()


@dataclass(frozen=True)
class CaptionFile:
    file: SmallFile
    etag: str


def caption_file(video_id: uuid.UUID, caption_id: int) -> CaptionFile:
    """The stored file of one of the video's captions (the caller has checked the grant);
    FileNotFoundError when it is gone."""
    key = _caption(video_id, caption_id).storage_key
    return CaptionFile(media.small_file(caption_name(key), MAX_CAPTION_BYTES + 1), key)
