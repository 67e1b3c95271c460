"""Resource options for every libvirt object ocplab makes: its name is its identity on the hypervisor.

libvirt refuses a second object of one name, so a replacement deletes first; and a half-made object (the
provider recorded it, then failed) is deleted and made again (`#initerror`), as Terraform's taint would,
instead of being retried as an update libvirt cannot make. See docs/engine-findings.md, "A half-made object
was retried as an update".
"""

from __future__ import annotations

import pulumi

FIXED_NAME = pulumi.ResourceOptions(delete_before_replace=True, replace_on_changes=["#initerror"])


def fixed_name(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """`opts` for a libvirt object whose name is fixed (every one ocplab makes)."""
    return opts.merge(FIXED_NAME)
