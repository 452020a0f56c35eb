"""What can go wrong with a backup, as Aura's domain errors (one line each)."""

from __future__ import annotations

from aura.errors import AuraError, Conflict, Invalid


class BackupRefused(Invalid):
    """A backup that cannot be used as it is: damaged, incomplete, newer, of another kind."""

    title = "That backup cannot be used"


class BackupBusy(Conflict):
    """Another backup is running in the same folder, or the site is still using its database."""

    title = "A backup or the site is busy"


class BackupFailed(AuraError):
    """Making, checking or restoring a backup failed for a reason outside the backup itself."""

    status = 500
    title = "The backup operation failed"
