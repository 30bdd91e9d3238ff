"""One writer per results folder: the folder's lock, and what a reader learns from it.

A run (``ioc-sim run``) or an experiment (``ioc-sim experiment run``) holds its
results folder's lock from before it writes anything until it has written its
last word. The lock is an operating-system advisory lock on the hidden file
``.lock``, taken through :mod:`filelock` (``flock`` on Linux and macOS, Windows'
own file locking there), and the operating system drops it the moment its
holder's process ends, for whatever reason, ``kill -9`` included (the locks of a
machine that crashes go when the file server notices). That is the stale-lock
rule: a lock is never stale, so nothing has to guess whether an old one may be
broken. Beside it, ``.writer.json`` says who holds it (process id,
host, start time, command); a note left by a holder that was killed is simply
overwritten by the next one, and is believed only while the lock is held.

A second writer is refused with one line naming the holder, or waits for it
when asked to. Readers never take the lock to read; a reader that finds a
manifest saying ``running`` may try it, without waiting, to learn whether the
runner is gone (:func:`writer_gone`) and to record that in the manifest
(:func:`record_stopped`).

Where the file system cannot lock files at all (some network file systems), the
writer says so on stderr and goes on without the lock; its part names stay
unique (see :mod:`~ioc_sim.experiments.results`), so two writers still cannot
overwrite each other's parts.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.jsonfiles import write_json

LOCK_NAME = ".lock"
HOLDER_NAME = ".writer.json"


def now() -> str:
    """The time now, in UTC, as ISO 8601 text (how every manifest writes times)."""
    return datetime.now(UTC).isoformat()


def process_exists(pid: int) -> bool:
    """Whether a process with this id exists on this machine (and is not a zombie).

    Only asked on POSIX systems; elsewhere (where ``os.kill`` would end the
    process) the answer is yes.
    """
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def describe_holder(holder: dict[str, Any] | None) -> str:
    """``pid 123 on host h, started 2026-...`` for a holder note (or what is known)."""
    if not holder:
        return "another process (it has not yet said which)"
    text = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"
    if holder.get("started"):
        text += f", started {holder['started']}"
    if holder.get("command"):
        text += f" ({holder['command']})"
    return text


class FolderLock:
    """The writer's lock on a results folder.

    Args:
        folder: The results folder (it must exist).
        option: The option that named the folder, for messages (``--out``).

    Use :meth:`acquire` (or ``with``) to take it and :meth:`release` to give it up.
    """

    def __init__(self, folder: Path, option: str = "--out"):
        from filelock import FileLock

        self.folder = Path(folder)
        self.option = option
        self._lock = FileLock(str(self.folder / LOCK_NAME))
        self.held = False
        self._noted = False  # whether this holder wrote the note (a reader's probe does not)
        #: False when the file system cannot lock files and the writer went on without.
        self.supported = True

    @property
    def holder_path(self) -> Path:
        return self.folder / HOLDER_NAME

    def holder(self) -> dict[str, Any] | None:
        """The holder's note, if there is a readable one."""
        try:
            note = json.loads(self.holder_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return note if isinstance(note, dict) else None

    def _current_holder(self) -> dict[str, Any] | None:
        """The note of whoever holds the lock now. A holder writes its note just after
        taking the lock, so a note that is missing, or left by a process gone from this
        machine, is read again for a moment before it is reported as it is."""
        note = self.holder()
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and (note is None or _gone_here(note)):
            time.sleep(0.05)
            note = self.holder()
        return note

    def try_acquire(self) -> bool:
        """Take the lock if it is free, without waiting; True if taken.

        Raises:
            OSError: If the lock file cannot be created or opened (a read-only folder).
        """
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        self.held = True
        return True

    def acquire(self, wait: bool = False) -> FolderLock:
        """Take the lock, then write the holder's note.

        Args:
            wait: If another writer holds it, wait until it is done (saying so once on
                stderr) instead of refusing.

        Raises:
            ConfigError: If another writer holds it and ``wait`` is False: one line
                naming the holder (process id, host, start time).
        """
        try:
            taken = self.try_acquire()
            # A reader may hold the lock for an instant to record that an earlier writer is
            # gone (see record_stopped); that is no reason to refuse.
            deadline = time.monotonic() + 1.0
            while not taken and time.monotonic() < deadline:
                time.sleep(0.05)
                taken = self.try_acquire()
        except (NotImplementedError, OSError) as err:
            if isinstance(err, OSError) and not _unsupported(err):
                raise ConfigError(
                    self.option, f"cannot lock {self.folder} ({err.strerror or err})"
                ) from None
            self.supported = False
            print(
                f"ioc-sim: {self.folder}: this file system cannot lock files; going on without "
                "the lock (two writers at once would each do every run)",
                file=sys.stderr,
            )
            return self
        if not taken:
            holder = describe_holder(self._current_holder())
            if not wait:
                raise ConfigError(
                    self.option,
                    f"{self.folder} is being written by {holder}; allowed: wait for it to "
                    "finish (add --wait), or another folder",
                )
            print(f"ioc-sim: waiting for {holder} to finish with {self.folder}", file=sys.stderr)
            try:
                self._lock.acquire()
            except RuntimeError:  # filelock's word for a wait on a lock this thread holds
                raise ConfigError(
                    self.option,
                    f"{self.folder} is being written by this same process; allowed: another folder",
                ) from None
            self.held = True
        self._noted = True
        write_json(
            self.holder_path,
            {
                "pid": os.getpid(),
                "host": platform.node(),
                "started": now(),
                "command": shlex.join(["ioc-sim", *sys.argv[1:]])
                if Path(sys.argv[0]).name in ("ioc-sim", "__main__.py")
                else shlex.join(sys.argv),
            },
        )
        return self

    def release(self) -> None:
        """Give the lock up (its note first, so that a note never outlives a holder that
        ended normally)."""
        if not self.held:
            return
        if self._noted:
            try:
                self.holder_path.unlink(missing_ok=True)
            except OSError:
                pass
            self._noted = False
        self._lock.release()
        self.held = False

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _unsupported(err: OSError) -> bool:
    """Whether an error taking a lock means the file system has no locks at all."""
    import errno

    return err.errno in (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP)


def _gone_here(note: dict[str, Any]) -> bool:
    return (
        note.get("host") == platform.node()
        and isinstance(note.get("pid"), int)
        and not process_exists(note["pid"])
    )


def writer_gone(folder: Path, session: dict[str, Any]) -> bool:
    """Whether the writer that a manifest says is ``running`` is known to be gone.

    Only a writer on this machine is judged: it is gone if its process is, or if it
    wrote under the folder's lock and the lock is free (its process id then names
    another process). A writer on another machine keeps its word: file systems differ
    in whether they pass locks between machines, and calling a live runner gone would
    be worse than calling a dead one late. Nothing waits, and nothing is written.
    """
    if session.get("host") != platform.node():
        return False
    if _gone_here(session):
        return True
    if not session.get("locked"):
        return False
    try:
        probe = FolderLock(folder)
        free = probe.try_acquire()
    except (NotImplementedError, OSError):  # a folder this process cannot lock
        return False
    if free:
        probe.release()
    return free


def stopped_status(session: dict[str, Any]) -> str:
    """The status of a session whose writer is gone: when it last wrote."""
    last = session.get("last_write") or session.get("started")
    return f"stopped (runner gone; last write at {last})"


def record_stopped(folder: Path, manifest: dict[str, Any], session: dict[str, Any]) -> bool:
    """Write into the manifest that its runner is gone, if no writer holds the folder.

    Takes the lock without waiting (a reader never waits); if it is held, or the folder
    cannot be written, the manifest is left alone and False is returned.
    """
    try:
        lock = FolderLock(folder)
        if not lock.try_acquire():
            return False
    except (NotImplementedError, OSError):
        return False
    try:
        fresh = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if fresh.get("status") != "running":
            manifest.clear()
            manifest.update(fresh)
            return False
        fresh["status"] = stopped_status(session)
        sessions = fresh.get("sessions") or [fresh]
        sessions[-1]["gone_noticed"] = now()
        write_json(folder / "manifest.json", fresh)
        manifest.clear()
        manifest.update(fresh)
        return True
    except (OSError, ValueError):
        return False
    finally:
        lock.release()
