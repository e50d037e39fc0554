"""The environment podman needs on the course's machines, kept in a folder of the project.

Three settings make Debian's podman work as root on a VM with hybrid cgroups and
without CAP_SYS_RESOURCE (the project's field notes measured them): the `runc`
runtime (crun refuses hybrid cgroups), default ulimits below the VM's hard limits,
and overlay storage in a folder of our own (vfs copies every layer on each run).
They go into a containers.conf and a storage.conf under `.cache/containers/`, and
every podman command of the project (image build, grading) runs with
CONTAINERS_CONF / CONTAINERS_STORAGE_CONF pointing at them, so the image built by
`make grading-image` is the one `make grade-all` finds. docker needs none of this.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from diffcourse_staff.course import REPO_ROOT

CACHE = REPO_ROOT / ".cache"
CONTAINERS_DIR = CACHE / "containers"


def podman_env(root: Path = CONTAINERS_DIR) -> dict[str, str]:
    """os.environ plus CONTAINERS_CONF and CONTAINERS_STORAGE_CONF for the project's podman."""
    root.mkdir(parents=True, exist_ok=True)
    containers_conf, storage_conf = root / "containers.conf", root / "storage.conf"
    runtime = 'runtime = "runc"\n' if shutil.which("runc") else ""
    containers_conf.write_text(
        "# written by diffcourse_staff.grading_batch.podman\n"
        "[containers]\n"
        'default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n'
        "[engine]\n"
        f"{runtime}"
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n',
        encoding="utf-8",
    )
    storage_conf.write_text(
        "# written by diffcourse_staff.grading_batch.podman\n"
        "[storage]\n"
        'driver = "overlay"\n'
        f'graphroot = "{root / "storage"}"\n'
        f'runroot = "{root / "run"}"\n',
        encoding="utf-8",
    )
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(containers_conf)
    env["CONTAINERS_STORAGE_CONF"] = str(storage_conf)
    return env
