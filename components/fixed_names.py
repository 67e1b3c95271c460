"""Resource options for every libvirt object ocplab makes: its name is its identity on the hypervisor.

Two engine defaults fail on such objects (seen on the simulated lab when a fault cut an `up` short):
- A replacement is create-before-delete by default, and libvirt refuses a second domain, volume or
  network of the same name (`domain 'ipi1-worker-1' already exists with uuid ...`). Delete first.
- terraform-provider-libvirt 0.8.1 records an object as soon as libvirt made it (`d.SetId`) and may fail
  after (starting it, reading it back over a dropped connection). The bridge hands the engine that partial
  state (pulumi/pulumi-terraform-bridge#2696) and the next `up` retries it as an *update*; libvirt volumes
  have no update ("doesn't support update", as in pulumiverse/pulumi-scaleway#340) and a domain's retry
  diffs into a replacement. Terraform would taint and replace it (pulumi/pulumi-terraform-module#251);
  the engine's `#initerror` replace-on-change path (pkg/resource/deploy/step_generator.go,
  `initErrorSpecialKey`, pulumi 3.259.0) does the same here: the half-made object is deleted by its id
  and made again.
"""

from __future__ import annotations

import pulumi

FIXED_NAME = pulumi.ResourceOptions(delete_before_replace=True, replace_on_changes=["#initerror"])


def fixed_name(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """`opts` for a libvirt object whose name is fixed (every one ocplab makes)."""
    return opts.merge(FIXED_NAME)
