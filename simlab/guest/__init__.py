"""The ocplab test guest: a tiny disk image (Debian kernel + busybox) that stands in for an
OpenShift node and reports on its serial console what the lab gave it (leases, disks,
cloud-init), plus the parser for those reports."""

from simlab.guest.build import DEFAULT_IMAGE, BuildResult, build, build_image
from simlab.guest.console import CloudInit, CloudUser, Disk, GuestReport, Lease, Renewal, RunCmd, parse_console
from simlab.guest.tools import MissingToolError, ToolFailedError

__all__ = [
    "DEFAULT_IMAGE",
    "BuildResult",
    "CloudInit",
    "CloudUser",
    "Disk",
    "GuestReport",
    "Lease",
    "MissingToolError",
    "Renewal",
    "RunCmd",
    "ToolFailedError",
    "build",
    "build_image",
    "parse_console",
]
