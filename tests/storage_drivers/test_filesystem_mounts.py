"""How many delete batches the filesystem driver runs at once, from its root's mount
(``storage_drivers/filesystem/mounts.py``): real mount tables of real machines."""

from __future__ import annotations

import os
from pathlib import Path

from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.filesystem.mounts import (
    CPU_BATCHES,
    WAITING_BATCHES,
    delete_batches,
    mount_of,
    removals_wait,
)

# /proc/self/mountinfo of a cloud VM (root on ext4 with discard) with an NFS share
MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683784k
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534
44 27 8:17 / /srv/fast rw,noatime shared:5 - xfs /dev/sdb1 rw,attr2,inode64,noquota
45 27 0:52 / /srv/shared rw,relatime shared:9 - nfs4 10.0.0.2:/export rw,vers=4.2,hard
46 27 0:53 / /srv/bucket rw,nosuid - fuse.s3fs s3fs rw,user_id=0,group_id=0
"""


def test_the_mount_of_a_device_and_its_options() -> None:
    assert mount_of(MOUNTINFO, os.makedev(254, 0)) == (
        "ext4",
        {"rw", "relatime", "discard", "resv_strict", "resuid"},
    )
    assert mount_of(MOUNTINFO, os.makedev(8, 17)) is not None
    assert mount_of(MOUNTINFO, os.makedev(9, 9)) is None


def test_removals_wait_on_discard_and_network_mounts_only() -> None:
    kinds = {
        (major, minor): removals_wait(*found)
        for major, minor in [(254, 0), (0, 23), (8, 17), (0, 52), (0, 53)]
        if (found := mount_of(MOUNTINFO, os.makedev(major, minor))) is not None
    }
    assert kinds == {
        (254, 0): True,  # ext4 with discard
        (0, 23): False,  # tmpfs
        (8, 17): False,  # xfs without discard
        (0, 52): True,  # nfs4
        (0, 53): True,  # s3fs
    }


def test_this_machines_tmpfs_and_a_root_not_made_yet(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    assert shm.is_dir(), "a Debian machine mounts a tmpfs on /dev/shm"
    assert delete_batches(str(shm)) == CPU_BATCHES
    root = tmp_path / "not" / "made" / "yet"
    assert delete_batches(str(root)) == delete_batches(str(tmp_path))
    driver = FilesystemDriver(str(root))
    assert driver.delete_batches in (CPU_BATCHES, WAITING_BATCHES)
    assert driver.delete_batches == delete_batches(str(tmp_path))
