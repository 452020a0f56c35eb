"""Which backups to keep: the newest of each of the last N days and of the last M ISO weeks.

"The last N days" are the N most recent UTC days that have a backup (restic's rule), so a
pause in backups never makes the policy delete everything older than the pause. Media that
a remaining backup shares through a hard link stays on disk: deleting a backup only drops
its own links.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime

from aura.services.backups import archive


def newest_per(
    backups: Iterable[tuple[str, datetime]], period: Callable[[datetime], Hashable], count: int
) -> set[str]:
    """The newest backup of each of the ``count`` most recent periods that have one."""
    kept: dict[Hashable, str] = {}
    for name, created in sorted(backups, key=lambda item: (item[1], item[0]), reverse=True):
        key = period(created)
        if key not in kept:
            if len(kept) == count:
                break
            kept[key] = name
    return set(kept.values())


def to_keep(backups: list[tuple[str, datetime]], keep_daily: int, keep_weekly: int) -> set[str]:
    def day(moment: datetime) -> Hashable:
        return moment.date()

    def week(moment: datetime) -> Hashable:
        return moment.isocalendar()[:2]

    return newest_per(backups, day, keep_daily) | newest_per(backups, week, keep_weekly)


def prune(dest: str, keep_daily: int, keep_weekly: int, protect: Iterable[str] = ()) -> list[str]:
    """Delete the finished backups in ``dest`` the policy does not keep; their names.

    Backups named in ``protect`` (the one just made) are never deleted. Folders without a
    readable manifest are left for the operator to look at. Call while holding the lock.
    """
    backups = [(name, manifest.created_at) for name, manifest in archive.complete_backups(dest)]
    keep = to_keep(backups, keep_daily, keep_weekly) | set(protect)
    removed = []
    for name, _created in backups:
        if name not in keep:
            archive.remove_backup(dest, name)
            removed.append(name)
    return removed
