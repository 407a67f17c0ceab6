"""What the root directory's mount allows: how many ``delete_many`` batches to run at
once (as many as the disk overlaps, or one), and whether a blob may be sent from a
mapping of its file.

A removal costs either the device's time or the CPU's, depending on the mount. Where
freeing blocks waits for the device (ext4 mounted with ``discard`` discards them inside
``unlink``; a network filesystem answers each call over the wire), a removal is a few
hundred microseconds of waiting, and the device overlaps many: 16 batches at once took a
60,000-blob collection from 25 to 19.5 s on a ``discard`` mount. Where a removal is a few
microseconds of kernel work (tmpfs, a local disk without ``discard``), batches side by
side only contend for their parent directories' locks and for the GIL: on tmpfs the same
collection's removals took 7.7 s with 16 batches at once and 3.8 s with one.

Timing the first batch cannot tell the two apart: it runs beside the listings of the
other repositories, and waiting for the GIL looks like waiting for the disk. The mount
table can: the root directory's mount (``/proc/self/mountinfo``, matched by device).
"""

from __future__ import annotations

import os

#: Batches at once where a removal waits for the device.
WAITING_BATCHES = 16
#: Batches at once where it does not.
CPU_BATCHES = 1
#: Filesystems whose every call crosses a network (``fuse.*`` too: s3fs, gcsfuse, sshfs).
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "ceph", "glusterfs", "lustre", "gpfs", "9p", "afs"}
)
#: Local filesystems, where a file mapped into memory reads as the file does. On a
#: network filesystem a page of a mapping can fail to arrive (a file another host
#: removed reads as a stale handle), and a process touching it gets SIGBUS, not an error.
MAPPABLE_FILESYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "ramfs", "zfs", "f2fs", "overlay"}
)
MOUNTINFO = "/proc/self/mountinfo"


def removals_wait(fstype: str, options: set[str]) -> bool:
    """Whether a removal on a mount of ``fstype`` with ``options`` waits for a device."""
    return "discard" in options or fstype in NETWORK_FILESYSTEMS or fstype.startswith("fuse.")


def mount_of(mountinfo: str, device: int) -> tuple[str, set[str]] | None:
    """The filesystem type and options (per-mount and superblock ones together) of the
    mount of ``device`` in a ``mountinfo`` text; None when no line names it."""
    wanted = f"{os.major(device)}:{os.minor(device)}"
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 10 or fields[2] != wanted or "-" not in fields[6:]:
            continue
        separator = fields.index("-", 6)
        if len(fields) < separator + 4:
            continue
        options = {*fields[5].split(","), *fields[separator + 3].split(",")}
        return fields[separator + 1], {option.split("=", 1)[0] for option in options}
    return None


def root_mount(directory: str) -> tuple[str, set[str]] | None:
    """The type and options of the mount of ``directory`` (or of its nearest existing
    parent); None where the mount table cannot be read or does not name it."""
    try:
        device = _device(os.path.abspath(directory))
        with open(MOUNTINFO, encoding="utf-8", errors="replace") as handle:
            return mount_of(handle.read(), device)
    except OSError:
        return None


def delete_batches(directory: str) -> int:
    """Batches to run at once for a root ``directory`` (its mount decides; where the
    mount table cannot tell, as many as a disk might overlap)."""
    found = root_mount(directory)
    if found is None:
        return WAITING_BATCHES
    return WAITING_BATCHES if removals_wait(*found) else CPU_BATCHES


def maps_safely(directory: str) -> bool:
    """Whether files under ``directory`` may be sent from mappings: a local filesystem
    (where the mount table cannot tell, no)."""
    found = root_mount(directory)
    return found is not None and found[0] in MAPPABLE_FILESYSTEMS


def _device(path: str) -> int:
    """The device of ``path``, or of its nearest existing parent (a root made later)."""
    while True:
        try:
            return os.stat(path).st_dev
        except FileNotFoundError:
            parent = os.path.dirname(path)
            if parent == path:
                raise
            path = parent
