"""The installer's install-config.yaml for an IPI cluster, rendered from its cluster stack's outputs.

`openshift-baremetal-install create cluster` on the provisionhost reads it: platform baremetal, one host per
master and worker with its BMC and boot MAC, the VIPs the stack reserved, and the bootstrap VM's address
and MAC the lab's DHCP has a reservation for. The pull secret and the SSH public key are the user's.

Fields, names and defaults as the installer's own documentation and types give them (read, not copied):

- openshift/installer pkg/types/baremetal/platform.go (Platform, Host, BMC; ProvisioningNetwork
  Managed|Unmanaged|Disabled; `apiVIPs`/`ingressVIPs` lists, `apiVIP`/`ingressVIP` deprecated since 4.12;
  `externalMACAddress`, `bootstrapExternalStaticIP`/`Gateway`/`DNS`, `bmc.disableCertificateVerification`).
- openshift/installer pkg/types/baremetal/defaults/platform.go: externalBridge `baremetal`, provisioningBridge
  `provisioning`, provisioningNetworkCIDR 172.22.0.0/24, provisioningNetwork Managed, and a random
  externalMACAddress when none is given (which the lab's static-only DHCP would not answer). ocplab writes
  172.22.0.0/21 instead: the provisioning bridge redhatci.ocp's node_prep builds when the inventory leaves
  `prov_network` out (roles/node_prep/tasks/40_bridge.yml: 172.22.0.1/21; `prov_network` itself breaks
  ansible-core 2.19, issue 24 B), so both paths give the provisionhost the same network and the lab network
  is checked against all of it.
- Host `bootMode` (pkg/types/baremetal/platform.go: UEFI, UEFISecureBoot, legacy; the installer's default is
  UEFI): ocplab writes the mode of the firmware its domains boot (core.firmware.FIRMWARE_OF), on every host.
- openshift/installer pkg/asset/installconfig/baremetal/validation.go: the three bootstrapExternalStatic*
  fields are set together or not at all.
- `bootstrapOSImage`/`clusterOSImage` (pkg/types/baremetal/validation validateOSImageURI: http(s) with a 64-hex
  `sha256` query parameter): written only where the cluster stack names images of the lab's cache (core.os_images).
- openshift/installer pkg/types/defaults/installconfig.go: clusterNetwork 10.128.0.0/14 hostPrefix 23,
  serviceNetwork 172.30.0.0/16, networkType OVNKubernetes.
- openshift/installer docs/user/metal/install_ipi.md ("Install Config", "Describing Hosts", "BMC Addressing"):
  `ipmi://<host>:<port>`, `redfish-virtualmedia://<host>/redfish/v1/Systems/<id>`; bootMACAddress is the NIC
  the host boots from on the provisioning network.
- OpenShift Container Platform docs, "Installing on bare metal", "Additional installation configuration
  parameters" (openshift/openshift-docs modules/ipi-install-additional-install-config-parameters.adoc,
  https://docs.redhat.com/en/documentation/openshift_container_platform/4.22/html/installing_on_bare_metal/):
  externalBridge is the bridge on the host running the bootstrap VM attached to the bare metal network,
  provisioningBridge the provisioner's bridge attached to the provisioning network; bootMACAddress the MAC of
  the provisioning NIC; provisioningNetworkInterface superseded by bootMACAddress from 4.9.

The bridges: the installer's bootstrap VM runs on the provisionhost, so `externalBridge`/`provisioningBridge`
name bridges *inside the provisionhost*, not the hypervisor's lab bridge or `prov-<cluster>`
(core.resource_facts.provisioning_bridge) that the provisionhost's two NICs are plugged into. ocplab writes the
installer's defaults, `baremetal` and `provisioning`, as dev-scripts and redhatci.ocp (roles/installer
templates/install-config.j2, provisioning_bridge / baremetal_bridge) set them up on the provisionhost.
The provisioning network is `<cluster>-provisioning`, isolated (libvirt mode none, no DHCP), so Managed with the
default CIDR: the bootstrap VM serves DHCP and PXE on it.

Dual-stack (docs/ipv6.md): the OpenShift docs' "Deploying with dual-stack networking" (openshift-docs, installing on
bare metal): each of machineNetwork, clusterNetwork and serviceNetwork has two entries, the primary family first,
and apiVIPs/ingressVIPs follow that order; ocplab's dual-stack clusters are IPv4-primary.

Targets OpenShift 4.14 or later (bootstrapExternalStaticDNS). SNO is refused: it installs with the agent-based
or assisted installer, not with an IPI install-config. Secrets: the BMC password and the pull secret are only in
the returned document; no error message carries them.

The installer accepts more than it can use (issue 24: `create manifests` took a host with no BMC password, a
BMC address without `://` and a miscased key): so `render_install_config` reads its own text back and checks it
against a strict model of the keys ocplab writes (`check_install_config`): any other key, a key cased otherwise,
a missing or empty BMC credential or an address that is not `<scheme>://...` is refused, naming where.
And a BMC user or password YAML would read as anything but that text (`1234`, `true`, `null`, `2026-12-06`) is
refused (`require_yaml_text_bmc`): redhatci.ocp's install-config template writes them unquoted.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.cluster_outputs import (
    Bmc,
    Cluster,
    Node,
    OsImageUrl,
    OutputsError,
    full_match,
    provisioning_mac,
    read_cluster,
    require_topology,
)
from core.config_schema import Cidr6, Domain, IPv4, IPv6, Label, Mac
from core.firmware import FIRMWARE_OF
from core.ip_families import family_of, url_host
from core.os_images import INSTALL_CONFIG_KEYS
from renderers.install_config_mirror import MirrorAccess, merged_pull_secret, mirror_sections

IPI_ROLES = ("master", "worker")
# The installer's name for the firmware our domains boot (pkg/types/baremetal/platform.go BootMode).
BOOT_MODES: dict[str, Literal["legacy", "UEFI"]] = {"bios": "legacy", "uefi": "UEFI"}
BOOT_MODE = BOOT_MODES[FIRMWARE_OF["ipi"]]  # install-config is IPI's only


@dataclass(frozen=True)
class InstallConfigOptions:
    """What the outputs don't say; the defaults are the installer's own."""

    external_bridge: str = "baremetal"
    provisioning_bridge: str = "provisioning"
    provisioning_network_cidr: str = "172.22.0.0/21"  # node_prep's, without prov_network (see above)
    cluster_network_cidr: str = "10.128.0.0/14"
    cluster_network_host_prefix: int = 23
    service_network_cidr: str = "172.30.0.0/16"
    network_type: str = "OVNKubernetes"
    # A dual-stack cluster's IPv6 networks: OpenShift's documented dual-stack example (installing on bare metal,
    # "Deploying with dual-stack networking"), which redhatci.ocp's install-config template writes too: fd02::/48
    # with a /64 per node, and fd03::/112.
    cluster_network_cidr6: str = "fd02::/48"
    cluster_network_host_prefix6: int = 64
    service_network_cidr6: str = "fd03::/112"


# --- the user's inputs --------------------------------------------------------------------------------------------


def pull_secret_problem(text: str) -> str | None:
    """Why `text` is not a pull secret (a JSON object with an `auths` object), or None. Never quotes it."""
    try:
        data = json.loads(text)
    except ValueError:
        return "is not JSON"
    if not isinstance(data, dict) or not isinstance(data.get("auths"), dict):
        return 'is JSON but not a pull secret (an object with "auths")'
    return None


_PUBLIC_KEY = re.compile(r"(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-\S+@openssh\.com) [A-Za-z0-9+/]+=*( .*)?")


def ssh_key_problem(text: str) -> str | None:
    """Why `text` is not one or more OpenSSH public keys, or None. A private key is named as such (never quoted)."""
    if "PRIVATE KEY" in text:
        return "holds a private key; give the public one (the .pub file)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not all(_PUBLIC_KEY.fullmatch(line) for line in lines):
        return "is not an OpenSSH public key (one 'ssh-ed25519 AAAA...' line per key)"
    return None


# --- the BMC's user and password, as YAML reads them ---------------------------------------------------------------

# What YAML 1.2's core schema (go-yaml, which the installer reads with) takes for a number, beyond PyYAML's 1.1.
_YAML12_NUMBER = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+"
                            r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


def yaml_reads_as_text(value: str) -> bool:
    """Whether `key: value`, unquoted, reads back as the same string in YAML 1.1 (PyYAML, Ansible) and 1.2."""
    try:
        read = yaml.safe_load(f"k: {value}")
    except yaml.YAMLError:
        return False
    return read == {"k": value} and not _YAML12_NUMBER.fullmatch(value)


def require_yaml_text_bmc(cluster: Cluster) -> None:
    """Refuse a BMC user or password that a template writing it unquoted (redhatci.ocp's install-config.j2:
    `password: {{ ipmi_password }}`) would turn into a number, a boolean, null or a date. Names the field only."""
    if cluster.bmc is None:
        return
    for field, value in (("user", cluster.bmc.user), ("password", cluster.bmc.password)):
        if not yaml_reads_as_text(value):
            raise OutputsError(f"stack {cluster.stack}: output bmc.{field} does not read back as text in YAML (a "
                               "number, boolean, null, date or list), and DCI's install-config template writes it "
                               "unquoted: choose another")


# --- hosts --------------------------------------------------------------------------------------------------------


def bmc_address(bmc: Bmc, node: Node) -> str:
    """virtualbmc answers IPMI on one port per node; sushy-tools serves every node's Redfish system on one port,
    the system id being the libvirt domain's UUID. Redfish uses virtual media, which needs no PXE."""
    host = url_host(bmc.address)
    if bmc.kind == "ipmi":
        return f"ipmi://{host}:{bmc.port_of(node.name)}"
    return f"redfish-virtualmedia://{host}:{bmc.redfish_port}/redfish/v1/Systems/{node.uuid}"


def _host(cluster: Cluster, bmc: Bmc, node: Node) -> dict[str, Any]:
    credentials: dict[str, Any] = {"address": bmc_address(bmc, node), "username": bmc.user,
                                   "password": bmc.password}
    if bmc.kind == "redfish":  # sushy-tools' certificate is self-signed
        credentials["disableCertificateVerification"] = True
    return {"name": node.name, "role": node.role, "bmc": credentials,
            "bootMACAddress": provisioning_mac(cluster, node, "bootMACAddress"), "bootMode": BOOT_MODE}


# --- the document -------------------------------------------------------------------------------------------------


def _ipi_cluster(outputs: Mapping[str, Any], stack: str | None) -> tuple[Cluster, Bmc]:
    cluster = read_cluster(outputs, stack)
    if cluster.topology == "sno":
        raise OutputsError(f"stack {cluster.stack} is an SNO cluster: SNO installs with the agent-based or "
                           "assisted installer, not from an IPI install-config (ocplab handoff writes its inventory)")
    require_topology(cluster, "ipi")
    if cluster.bmc is None:
        raise OutputsError(f"stack {cluster.stack} has no BMCs, which the installer powers the hosts with: give "
                           f"slice {cluster.name} bmc_ports in the lab stack and pulumi up the lab and the cluster")
    require_yaml_text_bmc(cluster)
    return cluster, cluster.bmc


def _check_networks(cluster: Cluster, options: InstallConfigOptions) -> None:
    """The machine network must not overlap the provisioning, cluster or service network (OVN would not route)."""
    checks = [(cluster.cidr, "provisioning", options.provisioning_network_cidr)] if cluster.cidr else []
    if cluster.api_vip is not None and cluster.cidr:  # the IPv4 cluster and service networks (none IPv6-only)
        checks += [(cluster.cidr, "cluster", options.cluster_network_cidr),
                   (cluster.cidr, "service", options.service_network_cidr)]
    if cluster.cidr6:
        checks += [(cluster.cidr6, "cluster", options.cluster_network_cidr6),
                   (cluster.cidr6, "service", options.service_network_cidr6)]
    for lab, what, cidr in checks:
        if ipaddress.ip_network(lab, strict=False).overlaps(ipaddress.ip_network(cidr, strict=False)):
            raise OutputsError(f"stack {cluster.stack}: the lab network {lab} overlaps the installer's "
                               f"{what} network {cidr}; choose another {what} network")


def _networking(cluster: Cluster, options: InstallConfigOptions) -> dict[str, Any]:
    """One network of each kind per family, IPv4 first on a dual-stack cluster (its VIPs follow that order); the
    IPv6 ones alone on an IPv6-only cluster (no api_vip: its lab network's IPv4 is not its own)."""
    ipv4 = cluster.api_vip is not None
    machine = [{"cidr": cluster.cidr}] if ipv4 else []
    pods: list[dict[str, Any]] = [{"cidr": options.cluster_network_cidr,
                                   "hostPrefix": options.cluster_network_host_prefix}] if ipv4 else []
    services = [options.service_network_cidr] if ipv4 else []
    if cluster.cidr6:
        machine.append({"cidr": cluster.cidr6})
        pods.append({"cidr": options.cluster_network_cidr6, "hostPrefix": options.cluster_network_host_prefix6})
        services.append(options.service_network_cidr6)
    return {"networkType": options.network_type, "machineNetwork": machine, "clusterNetwork": pods,
            "serviceNetwork": services}


def _bootstrap_fields(cluster: Cluster) -> dict[str, Any]:
    """The bootstrap VM's MAC (the lab's DHCP reserves its address for it) and that address set statically, so
    the bootstrap does not depend on a lease; none of them for outputs that predate the bootstrap plan."""
    if cluster.bootstrap is None:
        return {}
    if cluster.bootstrap.ip is None:  # IPv6-only: its DHCPv6 reservation, by the MAC, gives its address
        return {"externalMACAddress": cluster.bootstrap.mac}
    return {"externalMACAddress": cluster.bootstrap.mac, "bootstrapExternalStaticIP": cluster.bootstrap.ip,
            "bootstrapExternalStaticGateway": cluster.gateway, "bootstrapExternalStaticDNS": cluster.dns}


def install_config(outputs: Mapping[str, Any], pull_secret: str, ssh_key: str,
                   options: InstallConfigOptions | None = None, stack: str | None = None,
                   mirror: MirrorAccess | None = None) -> dict[str, Any]:
    """The install-config of an IPI cluster stack: the outputs (read with show_secrets) and the user's inputs;
    with the lab's mirror, its sections (renderers.install_config_mirror) and its login in the pull secret."""
    options = options or InstallConfigOptions()
    for what, problem in (("pull secret", pull_secret_problem(pull_secret)), ("SSH key", ssh_key_problem(ssh_key))):
        if problem:
            raise ValueError(f"the {what} {problem}")
    cluster, bmc = _ipi_cluster(outputs, stack)
    _check_networks(cluster, options)
    hosts = [_host(cluster, bmc, node) for role in IPI_ROLES for node in cluster.by_role(role)]
    return {
        "apiVersion": "v1",
        "baseDomain": cluster.domain,
        "metadata": {"name": cluster.name},
        "networking": _networking(cluster, options),
        "controlPlane": {"name": "master", "replicas": len(cluster.by_role("master")),
                         "platform": {"baremetal": {}}},
        "compute": [{"name": "worker", "replicas": len(cluster.by_role("worker")), "platform": {"baremetal": {}}}],
        "platform": {"baremetal": {
            "apiVIPs": [vip for vip in (cluster.api_vip, cluster.api_vip6) if vip],  # IPv4 first, as the networks
            "ingressVIPs": [vip for vip in (cluster.ingress_vip, cluster.ingress_vip6) if vip],
            "provisioningNetwork": "Managed",
            "provisioningNetworkCIDR": options.provisioning_network_cidr,
            "externalBridge": options.external_bridge,
            "provisioningBridge": options.provisioning_bridge,
            **_bootstrap_fields(cluster),
            **{INSTALL_CONFIG_KEYS[key]: url for key, url in cluster.os_images.items()},  # RHCOS from the lab's cache
            "hosts": hosts,
        }},
        **(mirror_sections(mirror) if mirror else {}),
        "pullSecret": merged_pull_secret(pull_secret, mirror) if mirror else
        json.dumps(json.loads(pull_secret), separators=(",", ":")),
        "sshKey": "\n".join(line.strip() for line in ssh_key.splitlines() if line.strip()),
    }


def render_install_config(outputs: Mapping[str, Any], pull_secret: str, ssh_key: str,
                          options: InstallConfigOptions | None = None, stack: str | None = None,
                          mirror: MirrorAccess | None = None) -> str:
    """install-config.yaml as text: a comment saying where it came from, then the document, read back and
    checked (`check_install_config`) before it is returned."""
    document = install_config(outputs, pull_secret, ssh_key, options, stack, mirror)
    name = document["metadata"]["name"]
    header = (f"# install-config.yaml for cluster {name}, generated by ocplab from its stack outputs.\n"
              "# Holds the BMC passwords and the pull secret: keep it private. openshift-install consumes it\n"
              "# (removes it from its --dir): keep a copy.\n")
    text = header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    check_install_config(yaml.safe_load(text))
    return text


# --- our own check of the document: what the installer lets through ----------------------------------------------


class InstallConfigError(OutputsError):
    """The document ocplab made is not one it means to hand the installer; names where, never a value."""


class _Strict(BaseModel):
    """Only the keys ocplab writes, cased as the installer's types spell them; nothing coerced."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


NonEmpty = Annotated[str, Field(min_length=1, max_length=4096)]
Network4 = Annotated[str, full_match(r"((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                                     r"/([0-9]|[12][0-9]|3[0-2])", "an IPv4 network a.b.c.d/n")]
Network = Network4 | Cidr6  # machine, cluster and service networks: one per family on a dual-stack cluster


def _one_per_family_ipv4_first(addresses: list[str]) -> list[str]:
    """The installer's order for dual-stack lists: as the networks, IPv4 first; one address per family."""
    families = [family_of(address) for address in addresses]
    if families not in ([4], [6], [4, 6]):
        raise ValueError("is not one address per family, IPv4 first")
    return addresses


Vips = Annotated[list[IPv4 | IPv6], Field(min_length=1, max_length=2), AfterValidator(_one_per_family_ipv4_first)]
BmcUrl = Annotated[str, full_match(r"(ipmi|redfish|redfish-virtualmedia|redfish\+https?|idrac-virtualmedia)"
                                   r"://[^\s/]+(/\S*)?", "a BMC address <scheme>://<host>[:port][/path]")]


class _HostBmc(_Strict):
    address: BmcUrl
    username: NonEmpty
    password: NonEmpty
    disableCertificateVerification: bool = False


class _Host(_Strict):
    name: Label
    role: Literal["master", "worker"]
    bmc: _HostBmc
    bootMACAddress: Mac
    bootMode: Literal["UEFI", "UEFISecureBoot", "legacy"]


class _Baremetal(_Strict):
    apiVIPs: Vips
    ingressVIPs: Vips
    provisioningNetwork: Literal["Managed", "Unmanaged", "Disabled"]
    provisioningNetworkCIDR: Network4
    externalBridge: Label
    provisioningBridge: Label
    externalMACAddress: Mac | None = None
    bootstrapExternalStaticIP: IPv4 | None = None
    bootstrapExternalStaticGateway: IPv4 | None = None
    bootstrapExternalStaticDNS: IPv4 | None = None
    bootstrapOSImage: OsImageUrl | None = None
    clusterOSImage: OsImageUrl | None = None
    hosts: Annotated[list[_Host], Field(min_length=1)]

    @model_validator(mode="after")
    def _static_bootstrap_together(self) -> _Baremetal:
        given = [self.bootstrapExternalStaticIP, self.bootstrapExternalStaticGateway, self.bootstrapExternalStaticDNS]
        if any(given) and not all(given):
            raise ValueError("sets some of bootstrapExternalStaticIP, -Gateway and -DNS: set all three or none")
        return self


class _Platform(_Strict):
    baremetal: _Baremetal


class _NoPlatformFields(_Strict):
    """`platform: {baremetal: {}}` of controlPlane and compute: ocplab sets nothing there."""


class _MachinePlatform(_Strict):
    baremetal: _NoPlatformFields


class _Pool(_Strict):
    name: Literal["master", "worker"]
    replicas: Annotated[int, Field(ge=0, le=512)]
    platform: _MachinePlatform


class _MachineNetwork(_Strict):
    cidr: Network


class _ClusterNetwork(_Strict):
    cidr: Network
    hostPrefix: Annotated[int, Field(ge=1, le=128)]


class _Networking(_Strict):
    networkType: Literal["OVNKubernetes"]
    machineNetwork: Annotated[list[_MachineNetwork], Field(min_length=1)]
    clusterNetwork: Annotated[list[_ClusterNetwork], Field(min_length=1)]
    serviceNetwork: Annotated[list[Network], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_network_per_family_ipv4_first(self) -> _Networking:
        for kind, cidrs in (("machineNetwork", [n.cidr for n in self.machineNetwork]),
                            ("clusterNetwork", [n.cidr for n in self.clusterNetwork]),
                            ("serviceNetwork", self.serviceNetwork)):
            try:
                _one_per_family_ipv4_first([cidr.split("/")[0] for cidr in cidrs])
            except ValueError as exc:
                raise ValueError(f"{kind} {exc}") from None
        return self


class _Metadata(_Strict):
    name: Label


class _DigestSource(_Strict):
    source: NonEmpty
    mirrors: Annotated[list[NonEmpty], Field(min_length=1)]


class _InstallConfig(_Strict):
    apiVersion: Literal["v1"]
    baseDomain: Domain
    metadata: _Metadata
    networking: _Networking
    controlPlane: _Pool
    compute: Annotated[list[_Pool], Field(min_length=1, max_length=1)]
    platform: _Platform
    imageDigestSources: Annotated[list[_DigestSource], Field(min_length=1)] | None = None  # a mirrored install
    additionalTrustBundle: Annotated[str, Field(min_length=1, max_length=65536)] | None = None
    additionalTrustBundlePolicy: Literal["Proxyonly", "Always"] | None = None
    pullSecret: NonEmpty
    sshKey: NonEmpty


_ISSUES = {"extra_forbidden": "is not a key ocplab writes (keys are case-sensitive)", "missing": "is missing",
           "string_too_short": "is empty", "too_short": "is empty", "string_type": "is not a string",
           "bool_type": "is not a boolean", "int_type": "is not a whole number", "literal_error": "is not one of",
           "model_type": "is not a mapping", "dict_type": "is not a mapping", "list_type": "is not a list"}


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else ("." if path else "") + str(part)[:64]
    return path or "the document"


def check_install_config(document: Any) -> None:
    """Refuse, in one line naming the first key, what ocplab does not mean to give the installer (it would take it)."""
    try:
        _InstallConfig.model_validate(document)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        kind = str(first["type"])
        if kind == "literal_error":
            problem = f"is not one of {first.get('ctx', {}).get('expected')}"
        elif kind in _ISSUES:
            problem = _ISSUES[kind]
        elif kind == "value_error":  # core.config_schema's patterns start with the value: not shown
            problem = str(first["msg"]).removeprefix("Value error, ")
            if isinstance(value := first.get("input"), str):
                problem = problem.removeprefix(f"{value[:80]!r} ")
        else:
            problem = f"is not valid ({kind})"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InstallConfigError(f"install-config: {_location(tuple(first['loc']))} {problem}{more}") from None
