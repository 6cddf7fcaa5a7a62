"""Which files some process still holds open for writing (Linux, from /proc).

`open_for_writing(paths)` looks at every process this user may inspect: each `/proc/<pid>/fd/<n>` link that
points at one of `paths` and whose `/proc/<pid>/fdinfo/<n>` flags open it write-only or read-write. Processes
of other users (unless running as root) cannot be read and are skipped, so an empty answer means "no writer
that we can see". Processes and descriptors come and go while we look: whatever vanishes mid-way is skipped.
A file is matched by its resolved path, or by device and inode when the process reached it by another
path with the same file name (a symlinked folder, a bind mount).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def available(proc: Path = PROC) -> bool:
    """True where /proc has per-descriptor flags (Linux)."""
    return (proc / "self" / "fdinfo").is_dir()


def _write_access(fdinfo: Path) -> bool:
    """The descriptor was opened O_WRONLY or O_RDWR (flags are octal in fdinfo)."""
    try:
        text = fdinfo.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags:"):
            try:
                flags = int(line.split(":", 1)[1].strip(), 8)
            except ValueError:
                return False
            return flags & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)
    return False


def open_for_writing(paths: Iterable[Path], proc: Path = PROC) -> set[Path]:
    """The subset of `paths` that some readable process has open for writing right now."""
    wanted: dict[str, Path] = {}
    inodes: dict[tuple[int, int], Path] = {}
    names: set[str] = set()
    for p in paths:
        p = Path(p)
        wanted[os.path.realpath(p)] = p
        try:
            st = os.stat(p)
        except OSError:
            continue
        inodes[(st.st_dev, st.st_ino)] = p
        names.add(p.name)
    if not wanted:
        return set()
    found: set[Path] = set()
    try:
        pids = [e.name for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return set()
    for pid in pids:
        fd_dir = proc / pid / "fd"
        try:
            fds = [e.name for e in os.scandir(fd_dir)]
        except OSError:  # another user's process, or it ended
            continue
        for fd in fds:
            link = fd_dir / fd
            try:
                target = os.readlink(link)
            except OSError:
                continue
            path = wanted.get(target)
            if path is None and os.path.basename(target) in names:  # reached through another path?
                try:
                    st = os.stat(link)
                except OSError:
                    continue
                path = inodes.get((st.st_dev, st.st_ino))
            if path is not None and path not in found and _write_access(proc / pid / "fdinfo" / fd):
                found.add(path)
        if len(found) == len(wanted):
            break
    return found
