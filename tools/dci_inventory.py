"""DCI inventories rendered from a cluster stack's outputs, as plain text so they are testable without Pulumi.

Each format follows a file of Red Hat's DCI repositories (read, not copied):

- IPI INI (`render_ipi_hosts`): redhatci/ansible-collection-redhatci-ocp roles/ocp_on_libvirt/templates/hosts.j2,
  the hosts file redhat-cip/dci-openshift-agent samples/ocp_on_libvirt (libvirt_up.yml) generates for IPI on
  libvirt: install_type, prov_nic, pub_nic, domain, cluster, masters_prov_nic, dir; [masters]/[workers] lines with
  name, role, ipmi_*, provision_mac, hardware_profile (default for masters, unknown for workers), kvm_uuid +
  redfish_port and the [kvm_hosts_redfish] group for Redfish (how roles/installer/templates/install-config.j2 picks
  `redfish://addr:port/redfish/v1/Systems/<uuid>`); [provisioner] with ansible_user, prov_nic, pub_nic,
  ansible_ssh_common_args. extcidrnet, apivip, ingressvip and [jumphost] come from the inventory example in
  redhat-cip/dci-openshift-agent README.md ("Inventory"); provisionhost_user from
  samples/ocp_on_libvirt/inventory/libvirt_resources.yml.
- SNO INI (`render_sno_hosts`): redhat-cip/dci-openshift-agent samples/sno_on_libvirt/templates/hosts.j2 (its output
  is examples/hosts-libvirt) for [all:vars] and groups, with examples/hosts-baremetal for sno_install_type=baremetal,
  extcidrrouter, extcidrdns, ipmi_*, baremetal_mac and installation_disk: ocplab owns the VM, and the "virtual" mode
  would virt-install (and first destroy every domain whose name contains the host's name) on the provisioner.
- ABI YAML (`render_abi_yaml`): redhat-cip/dci-openshift-agent samples/abi_on_libvirt/templates/hosts.j2 and
  docs/abi.md, with setup_vms/setup_dns_service off (ocplab made the VMs, the jumphost's dnsmasq serves DNS) and
  vendor KVM nodes whose sushy-tools system is found by name (vm_node_prefix + host = the libvirt domain name,
  see redhatci.ocp roles/vendors/kvm/defaults/main.yml).

Nothing in an inventory is a template Ansible runs, except the one ocplab means (`dir`, whose default is
`{{ ansible_user_dir }}/clusterconfigs`). ansible-core templates any string value that holds `{{`, `{%`, `{#`, or
starts with `#jinja2:` (it reads other delimiters from that header: a pipe lookup ran that way on 2.16 and 2.19),
and an INI inventory has no way to mark a value unsafe. So values are refused where they are read, not escaped
where they are written: every output by core.cluster_outputs' allow-list patterns, every InventoryOptions field by
its own (naming the option), and no allowed value holds `{`, `}`, `#`, a quote, a blank or a line break
(ssh_common_args may hold blanks; `dir` may be our template). The YAML inventory is refused the same and also
marks every string `!unsafe`, so a value that slipped past would be read verbatim (except strings YAML reads as
numbers or booleans, left untagged: 2.19 re-reads an `!unsafe` scalar as if unquoted, and none can hold a template).

What DCI's code does with each variable was run, not only read (issue 24: redhatci.ocp 96f540f and
dci-openshift-agent 04815f8 on ansible-core 2.16 and 2.19, docs/redhatci-ocp-gaps.md). So, before any text is
written (`_check_for_dci`): a variable the collection tests as a boolean is a Python bool, written as a literal
the INI reader turns into one (`False`, not the string "false", which `not enable_virtualmedia` takes as true
on 2.16 and refuses on 2.19); no string reads as a boolean; `prov_network`, which no value makes work on 2.19,
is never written (node_prep then builds 172.22.0.0/21, what the install-config renderer uses); and every variable
a role templates before its `when` (SNO's `tftp_server`, `delegate_to` of sno_installer's PXE tasks) is defined.
`bootmode` says what core.firmware says the topology's domains boot. A BMC user or password YAML would not
read back as the same text is refused (renderers.install_config.require_yaml_text_bmc): the collection's
install-config template writes them unquoted.

The outputs are read and checked by core.cluster_outputs. Secrets: the BMC password is written into the returned
text only (the agent reads it there); this module logs nothing and no error message carries a value from the
outputs' `bmc`.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from core.cluster_outputs import (
    Bmc,
    Cluster,
    Node,
    OutputsError,
    full_match,
    provisioning_host,
    provisioning_mac,
    read_cluster,
    require_topology,
)
from core.config_schema import AbsolutePath, Interface, Port, UserName
from core.firmware import FIRMWARE_OF
from core.ip_families import url_host
from renderers import pxe_boot
from renderers.install_config import require_yaml_text_bmc
from renderers.install_config_mirror import MirrorAccess, dci_image_sources_block

# An inventory value: text, a number, a boolean (written as the literal True/False the INI reader turns into
# one) or a list of text (written as a Python list literal).
Scalar = str | int | bool | tuple[str, ...]

# The outputs are read by core.cluster_outputs (shared with the install-config); its errors are this module's.
InventoryError = OutputsError


DEFAULT_CLUSTER_DIR = "{{ ansible_user_dir }}/clusterconfigs"  # ours: the one template an inventory carries
# ssh options as `-o Key=value -i path` words: no quote, `#`, `$`, brace or line break.
SshArgs = Annotated[str, Field(max_length=1024), full_match(r"[A-Za-z0-9_./@%+=:,~ -]*",
                                                             "ssh options of letters, digits, blanks and _./@%+=:,~-")]
# A public key file on the DCI controller (and on the provisionhost, where node_prep stats it): `~/...` or absolute.
KeyPath = Annotated[str, Field(max_length=1024), full_match(r"(~|/[A-Za-z0-9_.-]+)(/[A-Za-z0-9_.-]+)+",
                                                             "a path like ~/.ssh/id_rsa.pub")]
# How redhatci.ocp names the firmware (`bootmode`: legacy, or anything else for UEFI).
BOOTMODES: dict[str, str] = {"bios": "legacy", "uefi": "uefi"}


def _strict(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind, config=ConfigDict(strict=True))


_OPTION_TYPES: dict[str, TypeAdapter[Any]] = {
    **{nic: _strict(Interface) for nic in ("prov_nic", "pub_nic", "masters_prov_nic")},
    "provisionhost_user": _strict(UserName | None), "hypervisor_user": _strict(UserName),
    "cluster_dir": _strict(AbsolutePath | Literal["{{ ansible_user_dir }}/clusterconfigs"]),
    "ssh_common_args": _strict(SshArgs), "installation_disk": _strict(AbsolutePath),
    "include_jumphost": _strict(bool), "abi_http_port": _strict(Port), "controller_public_key": _strict(KeyPath),
    "disconnected_files": _strict(tuple[AbsolutePath, AbsolutePath] | None),
    "pull_secret_file": _strict(AbsolutePath | None),
}


@dataclass(frozen=True)
class InventoryOptions:
    """What the outputs don't say: NIC names inside the guests, users, paths.

    ocplab gives every node its baremetal NIC first and the provisioning NIC second by default (the
    samples do the reverse), hence eth0 public / eth1 provisioning on the provisionhost, and ens4 for the
    masters' provisioning NIC assuming libvirt's default i440fx slots (ens3 = first NIC); a stack that
    orders its networks differently, or another machine type, must pass its own names.
    `installation_disk` is the SNO root disk: /dev/vda for virtio, /dev/sda for virtio_scsi.
    """

    prov_nic: str = "eth1"
    pub_nic: str = "eth0"
    masters_prov_nic: str = "ens4"
    provisionhost_user: str | None = None  # None: the stack's provisionhost_user output, else dci (the samples')
    cluster_dir: str = DEFAULT_CLUSTER_DIR
    ssh_common_args: str = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
    include_jumphost: bool = True
    installation_disk: str = "/dev/vda"
    hypervisor_user: str = "root"
    abi_http_port: int = 8040
    # The DCI controller's public key, added to the cluster's sshKey (`ssh_extra_keys_paths`): the agent fetches
    # the provisioner's private key only from a RHEL 8 provisionhost, so masters and workers are reached with the
    # controller's own key. node_prep also stats the path on the provisionhost (our first boot makes one there).
    controller_public_key: str = "~/.ssh/id_rsa.pub"
    # On a lab with a mirror: (mirrors file, auths file) the hand-off wrote beside the inventory, which redhatci.ocp's
    # installer and sno_installer roles read with disconnected_registry: existing (renderers/install_config_mirror.py).
    disconnected_files: tuple[str, str] | None = None
    # ABI on a lab with a mirror: a pull secret of the mirror's login the agent merges (dci_pull_secret_file).
    pull_secret_file: str | None = None

    def __post_init__(self) -> None:
        """Options are input as much as the outputs are (a caller's flags): each is refused, by name, unless
        its pattern allows it; none admits a Jinja delimiter, a `#` or a line break."""
        for name, adapter in _OPTION_TYPES.items():
            try:
                adapter.validate_python(getattr(self, name))
            except ValidationError as exc:
                problem = str(exc.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")
                raise InventoryError(f"inventory option {name}: {problem}") from None


def _read(outputs: Mapping[str, Any], stack: str | None = None) -> Cluster:
    """The checked outputs, with a BMC user and password that read back as text wherever DCI templates them."""
    cluster = read_cluster(outputs, stack)
    require_yaml_text_bmc(cluster)
    return cluster


# --- INI encoding -------------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9_./:@%+-]+")


def _kept_as_text(text: str) -> bool:
    """Ansible's INI plugin runs ast.literal_eval on every value: "123" or "True" would stop being text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return True
    except (RecursionError, MemoryError, SystemError):  # deep nesting; 3.11 raises SystemError (cpython#106905)
        return False  # quoted, so Ansible's literal_eval reads a plain string
    return False


def _var_value(value: Scalar) -> str:
    """A value for a `key=value` line of a :vars section (no shell-style splitting there). A bool is an int:
    `True`/`False`, which Ansible's literal_eval reads as booleans; a tuple is a list literal of strings."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return json.dumps(list(value))
    return value if _PLAIN.fullmatch(value) and _kept_as_text(value) else json.dumps(value)


def _host_value(value: Scalar) -> str:
    """A value on a host line: those are shlex-split (`#` starts a comment) before literal_eval."""
    encoded = _var_value(value)
    if isinstance(value, int) or encoded == value:
        return encoded
    if isinstance(value, tuple):
        return shlex.quote(encoded)
    one_line = "\n" not in value and "\r" not in value
    return shlex.quote(value if one_line and _kept_as_text(value) else encoded)


def _host_line(host: str, variables: Mapping[str, Scalar]) -> str:
    return " ".join([host, *(f"{key}={_host_value(value)}" for key, value in variables.items())])


def _section(title: str, lines: Iterable[str], comment: str = "") -> list[str]:
    return [*([f"# {comment}"] if comment else []), f"[{title}]", *lines, ""]


def _vars_section(group: str, variables: Mapping[str, Scalar]) -> list[str]:
    return _section(f"{group}:vars", (f"{key}={_var_value(value)}" for key, value in variables.items()))


def _header(cluster: Cluster, what: str, sample: str) -> list[str]:
    return [f"# {what} for cluster {cluster.name} (stack {cluster.stack}), generated by ocplab from its stack outputs.",
            f"# Format: {sample}. Holds the BMC password: keep this file private.", ""]


# --- what DCI's code reads: checked before anything is written -------------------------------------------------

# Tested as booleans by redhatci.ocp, some without `| bool` (node_prep 40_bridge.yml, 45_networking_facts.yml
# `not enable_virtualmedia`): the INI text "false" is true there on 2.16 and "Conditionals must have a boolean
# result" on 2.19.
DCI_BOOLEANS = frozenset({"enable_virtualmedia", "enable_redfish", "redfish_inspection", "dnsmasq_enabled",
                          "static_bootstrap_extnet"})
# No value works on every ansible-core line.
DCI_REFUSED = {"prov_network": "node_prep tests it as `prov_network is defined and prov_network`, which ansible-core "
                               "2.19 refuses for any value; leave it out (node_prep then builds 172.22.0.0/21)"}
# Templated by a role before its `when` decides (delegate_to: ansible/ansible#85849), or read to decide how the
# node boots: undefined, a task fails on 2.19 or the node gets UEFI's next-boot flag (0xa0).
DCI_REQUIRED: dict[str, tuple[str, ...]] = {"ipi": ("bootmode",), "sno": ("tftp_server", "bootmode")}
# A value written as the text of a boolean: surely meant as one (yes/no/on/off stay: a node may be named so).
_TEXT_BOOLEAN = re.compile(r"(?i)true|false")


def _check_for_dci(topology: str, stack: str, sections: Mapping[str, Mapping[str, Scalar]],
                   provisioners: Iterable[str]) -> None:
    """Refuse, naming the variable and where (never its value), what DCI's tasks would misread."""
    everywhere = {key for variables in sections.values() for key in variables}
    hosts = set(provisioners)
    for where, variables in sections.items():
        for key, value in variables.items():
            problem = ""
            if key in DCI_REFUSED:
                problem = DCI_REFUSED[key]
            elif key in DCI_BOOLEANS and not isinstance(value, bool):
                problem = "is a boolean redhatci.ocp tests (some tasks without | bool): write a real boolean"
            elif isinstance(value, str) and _TEXT_BOOLEAN.fullmatch(value):
                problem = "is a boolean written as text, which ansible-core reads as a string"
            elif key == "tftp_server" and value not in hosts:
                problem = "does not name the [provisioner] host"
            if problem:
                raise InventoryError(f"stack {stack}: {topology} inventory variable {key} ({where}) {problem}")
    for key in DCI_REQUIRED[topology]:
        if key not in everywhere:
            raise InventoryError(f"stack {stack}: {topology} inventory variable {key} is undefined, and a role of "
                                 "redhatci.ocp reads it before any `when`: define it")


# --- IPI ----------------------------------------------------------------------------------------------------------


def _bmc_credentials(bmc: Bmc | None) -> dict[str, Scalar]:
    """ipmi_user and ipmi_password, one pair per cluster, written as group vars: Ansible quotes host lines
    in its warnings (`name` is a reserved variable name), so a password on them would reach the job logs."""
    return {} if bmc is None else {"ipmi_user": bmc.user, "ipmi_password": bmc.password}


def _bmc_fields(bmc: Bmc | None, node: Node) -> dict[str, Scalar]:
    """Per-node ipmi_* for either kind; Redfish adds the libvirt domain UUID (sushy-tools' system id) and port."""
    if bmc is None:
        return {}
    fields: dict[str, Scalar] = {"ipmi_address": bmc.address, "ipmi_port": bmc.port_of(node.name)}
    if bmc.kind == "redfish":
        fields |= {"kvm_uuid": node.uuid, "redfish_port": bmc.redfish_port}
    return fields


def _ipi_node_vars(cluster: Cluster, node: Node) -> dict[str, Scalar]:
    mac = provisioning_mac(cluster, node, "provision_mac")
    profile = "default" if node.role == "master" else "unknown"
    return {"ansible_host": node.address, "name": node.name, "role": node.role, **_bmc_fields(cluster.bmc, node),
            "provision_mac": mac, "hardware_profile": profile}


def _ipi_all_vars(cluster: Cluster, options: InventoryOptions) -> dict[str, Scalar]:
    """The bootstrap VM's reserved MAC goes in as `externalMACAddress`, the variable redhatci.ocp's
    install-config template reads (roles/installer/templates/install-config.j2) and its own libvirt hosts
    template writes (roles/ocp_on_libvirt/templates/hosts.j2): without it the installer picks a random MAC
    that the lab's static-only DHCP never answers."""
    bootstrap: dict[str, Scalar] = {"externalMACAddress": cluster.bootstrap.mac} if cluster.bootstrap else {}
    return {"install_type": "ipi", "cluster": cluster.name, "domain": cluster.domain,
            "prov_nic": options.prov_nic, "pub_nic": options.pub_nic, "masters_prov_nic": options.masters_prov_nic,
            # an IPv6-only lab's cluster is IPv6-only: ipv6_only_vars writes extcidrnet
            "extcidrnet": cluster.cidr or "", "apivip": cluster.api_vip or "", "ingressvip": cluster.ingress_vip or "",
            **bootstrap, "provisionhost_user": _provisioner_user(cluster, options), "dir": options.cluster_dir,
            **_ipi_install_choices(cluster, options), **_dual_stack_vars(cluster), **ipv6_only_vars(cluster)}


def _dual_stack_vars(cluster: Cluster) -> dict[str, Scalar]:
    """A dual-stack cluster as redhatci.ocp's install-config template reads one (roles/installer/templates/
    install-config.j2: `ipv6_enabled and dualstack_baremetal` gives machineNetwork per family, `dualstack_vips`
    the apiVIPs/ingressVIPs lists from apivip(6)/ingressvip(6)); its provisioning network stays IPv4
    (node_prep 45_networking_facts.yml reads `ipv4_provisioning`), as ocplab's install-config has it."""
    if cluster.cidr6 is None or cluster.api_vip6 is None or cluster.ingress_vip6 is None:
        return {}
    return {"ipv6_enabled": True, "dualstack_baremetal": True, "dualstack_vips": True, "ipv4_provisioning": True,
            "extcidrnet6": cluster.cidr6, "apivip6": cluster.api_vip6, "ingressvip6": cluster.ingress_vip6}


def ipv6_only_vars(cluster: Cluster) -> dict[str, Scalar]:
    """An IPv6-only cluster as redhatci.ocp reads one: `ipv6_enabled` without `ipv4_baremetal` or
    `dualstack_baremetal` (installer and sno_installer install-config.j2 then write `machineCIDR: extcidrnet` and
    IPv6 cluster and service networks; node_prep 10_validation.yml wants extcidrnet6 IPv6 and 45_networking_facts
    takes the baremetal network from IPv6), so extcidrnet is the lab's /64 and apivip/ingressvip the IPv6 VIPs;
    the provisioning network stays IPv4 (`ipv4_provisioning`), as ocplab's install-config has it. Overrides the
    IPv4 values of the same names; nothing for an IPv4 or dual-stack cluster."""
    if cluster.api_vip is not None or cluster.cidr6 is None or cluster.api_vip6 is None \
            or cluster.ingress_vip6 is None:
        return {}
    return {"ipv6_enabled": True, "ipv4_baremetal": False, "dualstack_baremetal": False, "ipv4_provisioning": True,
            "extcidrnet": cluster.cidr6, "extcidrnet6": cluster.cidr6, "apivip": cluster.api_vip6,
            "ingressvip": cluster.ingress_vip6}


def _ipi_install_choices(cluster: Cluster, options: InventoryOptions) -> dict[str, Scalar]:
    """What redhatci.ocp would otherwise assume wrongly for these VMs (docs/redhatci-ocp-gaps.md): the domains'
    firmware (`bootmode=legacy` for BIOS: `bootMode: legacy` in roles/installer/templates/install-config.j2), no
    Redfish inspection of the BMC address without its port (node_prep/tasks/10_validation.yml), and the
    controller's public key in the cluster's sshKey (`ssh_extra_keys_paths`, issue 24 F).
    Left out on purpose: `prov_network` (breaks 2.19; node_prep's 172.22.0.1/21 is what the install-config
    renderer uses) and `enable_virtualmedia` (the role default, a real false: the collection renders `redfish://`
    over the provisioning network, which its virtual-media template would turn off while our nodes boot from it).
    Redfish slices say so with `enable_redfish`."""
    choices: dict[str, Scalar] = {"bootmode": BOOTMODES[FIRMWARE_OF["ipi"]], "redfish_inspection": False,
                                  "ssh_extra_keys_paths": (options.controller_public_key,)}
    choices |= _disconnected_vars(options)
    # RHCOS from the lab's cache (ocplab:os_images): roles/installer's install-config.j2 writes them as
    # bootstrapOSImage/clusterOSImage, and 24_rhcos_image_cache.yml then fetches neither.
    choices |= {f"{key}osimage": url for key, url in cluster.os_images.items()}
    if cluster.bmc is not None and cluster.bmc.kind == "redfish":
        choices |= {"enable_redfish": True}
    return choices


def _disconnected_vars(options: InventoryOptions) -> dict[str, Scalar]:
    """On a lab with a mirror, the files the hand-off wrote on the DCI controller: redhatci.ocp's installer (IPI) and
    sno_installer (SNO) both include 15_disconnected_registry_existing.yml on `disconnected_registry == "existing"`,
    which reads them on localhost (the mirrors file appended to install-config, the auths merged by jq)."""
    if options.disconnected_files is None:
        return {}
    mirrors, auths = options.disconnected_files
    return {"disconnected_registry": "existing", "disconnected_registry_mirrors_file": mirrors,
            "disconnected_registry_auths_file": auths}


def _provisioner_user(cluster: Cluster, options: InventoryOptions) -> str:
    """The user the agent logs in to the provisionhost as: the one the stack made there with the controller's key
    and a key pair (core.dci_user), unless the caller names another."""
    return options.provisionhost_user or cluster.provisionhost_user or "dci"


def _node_ssh_args(options: InventoryOptions) -> str:
    """How the agent reaches a master or worker: with the controller's own keys, which the cluster's sshKey
    holds through `ssh_extra_keys_paths`. Not `-i ~/.ssh/<cluster>-provisioner_rsa` (what the collection's
    roles/ocp_on_libvirt/templates/hosts.j2 writes): the current agent fetches that file only from a RHEL 8
    provisionhost (plays/configure-provisioner.yml), so on RHEL 9 it names a file that never exists."""
    return options.ssh_common_args


def _jumphost_section(cluster: Cluster, options: InventoryOptions) -> list[str]:
    if not options.include_jumphost:
        return []
    line = _host_line("jumphost", {"ansible_host": cluster.jumphost_address, "ansible_user": cluster.jumphost_user})
    return _section("jumphost", [line])


def render_ipi_hosts(outputs: Mapping[str, Any], options: InventoryOptions | None = None) -> str:
    """The INI hosts file dci-openshift-agent takes as is for an IPI install on the cluster's libvirt VMs."""
    options = options or InventoryOptions()
    cluster = _read(outputs)
    require_topology(cluster, "ipi")
    provisionhost = provisioning_host(cluster)
    node_vars: dict[str, Scalar] = {"ansible_user": "core", "ansible_ssh_extra_args": _node_ssh_args(options),
                                    **_bmc_credentials(cluster.bmc)}
    all_vars = _ipi_all_vars(cluster, options)
    provisioner_vars: dict[str, Scalar] = {
        "ansible_host": provisionhost.address, "name": provisionhost.name,
        "ansible_user": _provisioner_user(cluster, options), "prov_nic": options.prov_nic,
        "pub_nic": options.pub_nic, "ansible_ssh_common_args": options.ssh_common_args}
    hosts = {n.name: _ipi_node_vars(cluster, n) for role in ("master", "worker") for n in cluster.by_role(role)}
    _check_for_dci("ipi", cluster.stack, {"all:vars": all_vars, "masters:vars": node_vars, "workers:vars": node_vars,
                                          provisionhost.name: provisioner_vars, **hosts}, [provisionhost.name])
    lines = [
        *_header(cluster, "dci-openshift-agent IPI inventory",
                 "redhatci/ansible-collection-redhatci-ocp roles/ocp_on_libvirt/templates/hosts.j2"),
        *_vars_section("all", all_vars),
        *_section("provisioner", [_host_line(provisionhost.name, provisioner_vars)], "Provision host"),
        *_section("masters", (_host_line(n.name, hosts[n.name]) for n in cluster.by_role("master")), "Master nodes"),
        *_vars_section("masters", node_vars),
        *_section("workers", (_host_line(n.name, hosts[n.name]) for n in cluster.by_role("worker")), "Worker nodes"),
        *_vars_section("workers", node_vars),
        *_jumphost_section(cluster, options),
    ]
    if cluster.bmc is not None and cluster.bmc.kind == "redfish":
        members = [n.name for n in cluster.nodes if n.role in ("master", "worker")]
        lines += _section("kvm_hosts_redfish", members, "Nodes whose BMC is sushy-tools (Redfish, system id = UUID)")
    return "\n".join(lines)


# --- SNO ----------------------------------------------------------------------------------------------------------


def _sno_node(cluster: Cluster) -> Node:
    masters = cluster.by_role("master")
    if len(masters) != 1 or len(cluster.nodes) != 1:
        raise InventoryError(f"stack {cluster.stack}: an SNO cluster has exactly one master node")
    return masters[0]


def sno_provisioner_name(cluster: Cluster) -> str:
    """The lab jumphost as the SNO [provisioner], by its FQDN (the lab's DNS has `jumphost.<domain>`): the node
    fetches its rootfs and ignition from `http://<this name>:8080` (si_cache_server), and `jumphost` alone is
    the agent's own host and group (plays/configure-jumphost.yml, with become), not the lab's jumphost."""
    return f"jumphost.{cluster.domain}"


def render_sno_hosts(outputs: Mapping[str, Any], options: InventoryOptions | None = None) -> str:
    """The agent's SNO INI inventory, in its baremetal mode: the VM exists and boots through its BMC."""
    options = options or InventoryOptions()
    cluster = _read(outputs)
    require_topology(cluster, "sno")
    node = _sno_node(cluster)
    if node.ip is None:
        raise OutputsError(f"stack {cluster.stack} is an IPv6-only SNO cluster: redhatci.ocp's SNO baremetal install "
                           "boots the node from the network by UEFI PXE over DHCPv4 (renderers/pxe_boot.py), which an "
                           f"IPv6-only node gets no lease for; give ocplab:slices.{cluster.name} a range too in the "
                           "lab stack (dual-stack) to hand it to DCI")
    provisioner = sno_provisioner_name(cluster)
    all_vars: dict[str, Scalar] = {
        "cluster": cluster.name, "domain": cluster.domain, "dir": options.cluster_dir,
        # node.ip is set: the lab has IPv4, so these are set too (read_cluster)
        "extcidrnet": cluster.cidr or "", "extcidrrouter": cluster.gateway or "", "extcidrdns": cluster.dns or "",
        "sno_extnet_ip": node.address,
        "install_type": "sno", "sno_install_type": "baremetal", "ansible_ssh_extra_args": options.ssh_common_args,
        # The provisioner is our jumphost, whose dnsmasq already serves the node: with the default (true) the
        # collection writes /etc/dnsmasq.d/<cluster>.conf there and restarts the distribution's dnsmasq
        # beside ours (roles/sno_node_prep/tasks/main.yml, 65_dnsmasq_tftp.yml), a second DHCP server.
        "dnsmasq_enabled": False,
        # sno_node_prep sets it only with dnsmasq on; sno_installer's PXE tasks template it (delegate_to) before
        # their `when: dnsmasq_enabled | bool` on 2.19. The host the collection would pick: the provisioner.
        "tftp_server": provisioner,
        # Where the collection puts grub.cfg-01-<mac> and images/ on tftp_server (sno_installer 23 and 56): the
        # node's own TFTP root, which the lab's dnsmasq serves it from (renderers.pxe_boot).
        "tftp_dir": pxe_boot.tftp_dir(node.macs["baremetal"]),
        # What the collection tells the BMC to boot next (60_deploy_sno_bm.yml): 0x80 legacy, 0xa0 UEFI; an SNO
        # node boots OVMF (core.firmware).
        "bootmode": BOOTMODES[FIRMWARE_OF["sno"]], **_disconnected_vars(options)}
    master_vars: dict[str, Scalar] = {"ansible_host": node.address, "name": node.name, "role": "master",
                                      "ansible_user": "core", **_bmc_fields(cluster.bmc, node),
                                      "baremetal_mac": node.macs["baremetal"],
                                      "installation_disk": options.installation_disk}
    provisioner_vars: dict[str, Scalar] = {"ansible_host": cluster.jumphost_address,
                                           "ansible_user": cluster.jumphost_user}
    masters_vars = _bmc_credentials(cluster.bmc)
    _check_for_dci("sno", cluster.stack, {"all:vars": all_vars, node.fqdn: master_vars, "masters:vars": masters_vars,
                                          provisioner: provisioner_vars}, [provisioner])
    return "\n".join([
        *_header(cluster, "dci-openshift-agent SNO inventory",
                 "redhat-cip/dci-openshift-agent samples/sno_on_libvirt/templates/hosts.j2 + examples/hosts-baremetal"),
        *_vars_section("all", all_vars),
        *_section("provisioner", [_host_line(provisioner, provisioner_vars)],
                  "Runs the installer and serves the boot files: the lab's jumphost, by its FQDN"),
        *_section("masters", [_host_line(node.fqdn, master_vars)]),
        *(_vars_section("masters", masters_vars) if cluster.bmc else []),
        *_section("workers", [], "Empty, but the agent expects the group"),
    ])


# --- ABI ----------------------------------------------------------------------------------------------------------


def _service_host(cluster: Cluster, **extra: Scalar) -> dict[str, Scalar]:
    return {"ansible_host": cluster.jumphost_address, "ansible_user": cluster.jumphost_user, **extra}


def _abi_vm_hosts(cluster: Cluster, options: InventoryOptions) -> dict[str, Any]:
    """One vm_host per hypervisor that carries a node of the cluster."""
    hosts: dict[str, Any] = {}
    for node in cluster.nodes:
        if node.hypervisor not in cluster.hypervisors:
            raise InventoryError(f"stack {cluster.stack}: node {node.name} is on {node.hypervisor}, "
                                 "whose address the outputs don't give")
        hosts[node.hypervisor] = {"ansible_host": cluster.hypervisors[node.hypervisor],
                                  "ansible_user": options.hypervisor_user, "qemu_user": "root",
                                  "host_ip_keyword": "ansible_host", "images_dir": "/var/lib/libvirt/images",
                                  "SETUP_VM_BRIDGE": False}
    return {"hosts": hosts}


def _abi_nodes_vars(cluster: Cluster) -> dict[str, Any]:
    """vendor KVM boots nodes with Redfish virtual media from sushy-tools; IPMI can't do that."""
    if cluster.bmc is None:
        return {"vendor": "KVM"}
    if cluster.bmc.kind != "redfish":
        raise InventoryError(f"stack {cluster.stack}: ABI boots nodes through Redfish virtual media, "
                             "but the cluster's BMC is IPMI")
    return {"vendor": "KVM", "bmc_user": cluster.bmc.user, "bmc_password": cluster.bmc.password,
            "bmc_address": f"{url_host(cluster.bmc.address)}:{cluster.bmc.redfish_port}"}


def _abi_role_group(cluster: Cluster, role: str) -> dict[str, Any]:
    hosts = {n.name: {"ansible_host": n.address, "mac": n.macs["baremetal"], "vm_host": n.hypervisor}
             for n in cluster.by_role(role)}
    return {"vars": {"role": role}, "hosts": hosts}


def _abi_all_vars(cluster: Cluster) -> dict[str, Any]:
    return {
        "install_type": "abi", "cluster_name": cluster.name, "cluster": cluster.name,
        "base_dns_domain": cluster.domain, "api_vip": cluster.api_vip, "ingress_vip": cluster.ingress_vip,
        "vip_dhcp_allocation": False, "machine_network_cidr": cluster.cidr,
        "service_network_cidr": "172.30.0.0/16", "cluster_network_cidr": "10.128.0.0/14",
        "cluster_network_host_prefix": 23, "vm_node_prefix": f"{cluster.name}-",
        "setup_http_store_service": True, "setup_ntp_service": True, "setup_dns_service": False,
        "setup_registry_service": False, "setup_vms": False, "setup_conserver": False,
        "use_local_mirror_registry": False, "ntp_server": cluster.jumphost_address,
        "ntp_server_allow": cluster.cidr,
    }


class _Unsafe(str):
    """A string Ansible must read verbatim: written with the `!unsafe` tag, so it is never templated."""


class _InventoryDumper(yaml.SafeDumper):
    """safe_dump's dumper, plus `!unsafe` strings."""


def _represent_unsafe(dumper: yaml.SafeDumper, value: _Unsafe) -> yaml.ScalarNode:
    """ansible-core resolves a `!unsafe` scalar again as if it were plain, quotes ignored (2.19
    _resolve_and_construct_object): `!unsafe '52:54:00:10:10:30'` is read as a base-60 int. So a string that
    would resolve to anything but a string (numbers, booleans, null, dates: none can hold a template) is written
    quoted and untagged; every other string is tagged."""
    text, string = str(value), "tag:yaml.org,2002:str"
    resolve: Callable[[type, str, tuple[bool, bool]], str] = dumper.resolve  # PyYAML is untyped
    plain = resolve(yaml.ScalarNode, text, (True, False))
    return dumper.represent_scalar("!unsafe" if plain == string else string, text, style="'")


_InventoryDumper.add_representer(_Unsafe, _represent_unsafe)


def _unsafe(value: Any) -> Any:
    """Every string value marked unsafe (keys are host, group and variable names, which Ansible never templates)."""
    if isinstance(value, Mapping):
        return {key: _unsafe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unsafe(item) for item in value]
    return _Unsafe(value) if isinstance(value, str) else value


def _abi_mirror(cluster: Cluster, options: InventoryOptions, mirror: MirrorAccess | None) -> dict[str, Any]:
    """The all vars of a lab with a mirror. redhatci.ocp's generate_manifests (registry-config.j2) writes
    `imageContentSources` and `additionalTrustBundle` from `use_local_mirror_registry`, `mirror_registry`,
    `mirror_certificate` and the agent's `mirroring_image_sources` (its `gm_image_sources`), and reads
    `pull_secret.auths[mirror_registry]`: the agent merges that login into the job's pull secret from `pullsecret_file`
    (plays/pullsecrets.yml). Not a `registry_host` group, the other way in: the agent's own task that reads it
    (plays/pre-install.yml "Read Disconnected auths", `groups['registry_host']|length`) fails on ansible-core 2.19."""
    if mirror is None:
        return {}
    if options.pull_secret_file is None:
        raise InventoryError(f"stack {cluster.stack}: an ABI inventory on a lab with a mirror names the mirror's "
                             "login as the agent's pullsecret_file: give pull_secret_file")
    return {"use_local_mirror_registry": True, "mirror_registry": mirror.registry,
            "mirror_certificate": mirror.ca_certificate, "mirroring_image_sources": dci_image_sources_block(mirror),
            "pullsecret_file": options.pull_secret_file}


def render_abi_yaml(outputs: Mapping[str, Any], options: InventoryOptions | None = None,
                    mirror: MirrorAccess | None = None) -> str:
    """The agent-based installer's YAML inventory for the cluster's existing VMs (IPI or SNO stacks); on a lab with a
    mirror, what the agent and redhatci.ocp read to install from it (`_abi_mirror`)."""
    options = options or InventoryOptions()
    cluster = _read(outputs)
    if cluster.cidr is None:
        raise OutputsError(f"stack {cluster.stack} is a cluster of an IPv6-only lab: the ABI inventory is IPv4 "
                           "(machine_network_cidr, the VIPs, ntp_server_allow) in this version; hand it over as IPI "
                           "(ocplab handoff), or deploy it on a lab with network.cidr")
    children: dict[str, Any] = {"masters": _abi_role_group(cluster, "master")}
    if cluster.by_role("worker"):
        children["workers"] = _abi_role_group(cluster, "worker")
    inventory = {"all": {"vars": {**_abi_all_vars(cluster), **_abi_mirror(cluster, options, mirror)}, "children": {
        "bastions": {"hosts": {"bastion": {"ansible_host": "localhost", "ansible_connection": "local"}}},
        "provisioners": {"hosts": {"provisioner": _service_host(cluster)}},
        "services": {"hosts": {"http_store": _service_host(cluster, http_port=options.abi_http_port),
                               "tftp_host": _service_host(cluster, tftp_directory="/var/lib/tftpboot/"),
                               "ntp_host": _service_host(cluster)}},
        "vm_hosts": _abi_vm_hosts(cluster, options),
        "nodes": {"vars": _abi_nodes_vars(cluster), "children": children},
    }}}
    header = _header(cluster, "dci-openshift-agent ABI inventory",
                     "redhat-cip/dci-openshift-agent samples/abi_on_libvirt/templates/hosts.j2")
    return "\n".join(header) + yaml.dump(_unsafe(inventory), Dumper=_InventoryDumper, sort_keys=False,
                                         default_flow_style=False)


# --- choice -------------------------------------------------------------------------------------------------------


def inventory_for(outputs: Mapping[str, Any], options: InventoryOptions | None = None,
                  stack: str | None = None) -> tuple[str, str]:
    """(file name, text) of the inventory matching the cluster's topology.

    The file is named after the cluster so it can sit where dci-pipeline's
    `ansible_inventory: .../@QUEUE/@RESOURCE` expects a resource's inventory.
    """
    cluster = _read(outputs, stack)
    renderers = {"ipi": render_ipi_hosts, "sno": render_sno_hosts}
    if cluster.topology not in renderers:
        raise InventoryError(f"stack {cluster.stack}: no DCI inventory for topology {cluster.topology!r}")
    return cluster.name, renderers[cluster.topology](outputs, options)
