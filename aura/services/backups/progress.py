"""Progress reports: the service calls back, the CLI draws a bar, a page could show a status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """How far a backup, verification or restore has got in its current phase."""

    phase: str  # "media", "database", "verify", "restore"
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int


ProgressCallback = Callable[[Progress], None]


class Meter:
    """Counts the files and bytes of one phase and reports each change."""

    def __init__(
        self, progress: ProgressCallback | None, phase: str, files_total: int, bytes_total: int
    ) -> None:
        self.progress, self.phase = progress, phase
        self.files_total, self.bytes_total = files_total, bytes_total
        self.files = self.bytes = 0
        self.report()

    def step(self, count: int) -> None:
        self.bytes += count
        self.report()

    def file_done(self) -> None:
        self.files += 1
        self.report()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(
                Progress(self.phase, self.files, self.files_total, self.bytes, self.bytes_total)
            )
