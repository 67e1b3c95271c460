"""Turn a dci-openshift-agent libvirt inventory (the seed's format) into an ocplab cluster stack file
(`ocplab import`, tools/cli.py).

Teams already describe their clusters in these inventories; importing keeps VM names, sizes and
pinned MACs, so the jumphost's dhcp-host lines and DNS names stay valid when ocplab takes over.
With --dnsmasq, the lab's existing dnsmasq files say where each node and VIP already is, and the
stack pins those addresses (tools.existing_addresses).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.clusterconfig import NETWORKS, parse_cluster_config
from core.errors import ConfigError, OcplabError
from core.stack_files import read_stack_values, stack_path
from tools.dnsmasq_existing import read_existing_dns
from tools.existing_addresses import keep_existing_addresses

# Host keys copied as they are (after Jinja); the rest of a host is either rebuilt or dropped.
SIZE_KEYS = ("role", "memory", "vcpus", "cpu_mode", "disk_size", "disk2_size", "disk_cache", "disk_bus")
# Keys ocplab decides itself: the domain type, the architecture, the boot order, the FQDN and the base image.
DROPPED_KEYS = ("driver", "arch", "boot_dev", "domain", "image_src")
DEFAULT_IMAGE = "rhcos"

_JINJA = re.compile(r"\{\{(.*?)\}\}")
_VAR = re.compile(r"^\s*([A-Za-z_]\w*)\s*$")

# An inventory is a few KB; these bounds are far above any real one and keep a hostile one (a 1 KB YAML alias
# bomb expands to billions of values, a `{{ }}` chain that quadruples at each step to terabytes) to a refusal.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_VALUES = 100_000  # values in the document with YAML aliases expanded, and values the Resolver produces
MAX_DEPTH = 32  # nesting of mappings and lists, the Resolver's expansions included
MAX_CHAIN = 16  # {{ a }} -> {{ b }} -> ... references followed for one value
MAX_TEXT = 1024 * 1024  # characters the Resolver may produce by substitution, in all


class InventoryError(OcplabError):
    """One problem of the inventory or the command line, named by its field: shown as one line, exit 2."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")


class _Unbounded(Exception):
    """A Resolver bound passed; reported against the field being imported, not where deep inside it."""


class Resolver:
    """Expands plain `{{ var }}` references to other all.vars keys, as Ansible would, without Jinja itself.

    Only what the importer keeps is resolved, so a filter or lookup in an unused variable does not block it.
    """

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.variables = variables
        self.produced = 0  # values made, against MAX_VALUES: each reference may be followed many times
        self.text = 0  # characters made by substitution, against MAX_TEXT

    def value(self, raw: Any, where: str) -> Any:
        """`raw` with its references expanded; a bound passed is refused naming `where`, the field imported."""
        try:
            return self._value(raw, where, (), 0)
        except _Unbounded as exc:
            raise InventoryError(where, str(exc)) from None

    def _value(self, raw: Any, where: str, chain: tuple[str, ...], depth: int) -> Any:
        self._spend(depth)
        if isinstance(raw, list):
            return [self._value(item, f"{where}[{i}]", chain, depth + 1) for i, item in enumerate(raw)]
        if isinstance(raw, Mapping):
            return {key: self._value(item, f"{where}.{key}", chain, depth + 1) for key, item in raw.items()}
        if not isinstance(raw, str):
            return raw
        if "{%" in raw or "{#" in raw:
            raise InventoryError(where, f"{raw[:80]!r} uses Jinja statements; only {{{{ var }}}} references are "
                                 "imported")
        whole = _JINJA.fullmatch(raw.strip())
        if whole and "{{" not in whole.group(1):
            return self._var(whole.group(1), where, chain, depth)  # a lone reference keeps the variable's type
        text = _JINJA.sub(lambda m: str(self._var(m.group(1), where, chain, depth)), raw)
        self.text += len(text)
        if self.text > MAX_TEXT:
            raise _Unbounded(f"its {{{{ }}}} references expand to more than {MAX_TEXT} characters; "
                             "replace them with their values")
        return text

    def _spend(self, depth: int) -> None:
        self.produced += 1
        if self.produced > MAX_VALUES:
            raise _Unbounded(f"its {{{{ }}}} references expand to more than {MAX_VALUES} values; "
                             "replace them with their values")
        if depth > MAX_DEPTH:
            raise _Unbounded(f"nested deeper than {MAX_DEPTH} levels once its {{{{ }}}} references expand")

    def _var(self, expression: str, where: str, chain: tuple[str, ...], depth: int) -> Any:
        match = _VAR.match(expression)
        if not match:
            raise InventoryError(where, f"'{{{{{expression[:80]}}}}}' is not a plain variable reference; "
                                 "replace it with its value")
        name = match.group(1)
        if name in chain:
            raise InventoryError(where, f"{{{{ {name} }}}} refers to itself ({' -> '.join([*chain, name])})")
        if len(chain) >= MAX_CHAIN:
            raise _Unbounded(f"its {{{{ }}}} references go deeper than {MAX_CHAIN} ({' -> '.join(chain[:3])} -> ...); "
                             "replace some with their values")
        if name not in self.variables:
            raise InventoryError(where, f"{{{{ {name} }}}} is not defined in all.vars")
        return self._value(self.variables[name], f"all.vars.{name}", (*chain, name), depth + 1)


@dataclass(frozen=True)
class Options:
    lab: str
    hypervisor: str
    stack: str | None = None
    image: str | None = None
    images_map: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Imported:
    stack: str
    values: dict[str, Any]
    dropped: set[str]
    notes: list[str]


def load_inventory(path: Path) -> Mapping[str, Any]:
    """The inventory's all.vars, or InventoryError naming what is missing."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InventoryError(f"inventory {path}", f"larger than {MAX_FILE_BYTES // 1024 // 1024} MiB; "
                                 "not a dci-openshift-agent inventory")
        text = path.read_text()
    except FileNotFoundError:
        raise InventoryError(f"inventory {path}", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f"inventory {path}", f"cannot read it ({exc.__class__.__name__})") from None
    try:
        _check_nesting(text, f"inventory {path}")
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise InventoryError(f"inventory {path}", f"not YAML{at}: {problem}") from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise InventoryError(f"inventory {path}", f"nested deeper than {MAX_DEPTH} levels") from None
    check_bounded(document, f"inventory {path}")
    variables = document.get("all", {}).get("vars") if isinstance(document, Mapping) else None
    variables = variables if isinstance(variables, Mapping) else {}
    if not variables.get("hosts"):
        raise InventoryError("all.vars.hosts", "missing or empty; expected a dci-openshift-agent libvirt inventory "
                             "(all: vars: hosts: [...])")
    return variables


def _check_nesting(text: str, where: str) -> None:
    """Refuse deep nesting from the parser's events, before PyYAML's recursive composer meets it (a RecursionError
    after seconds of parsing); the event parser itself keeps no Python stack per level."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InventoryError(where, f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def check_bounded(document: Any, where: str) -> None:
    """Refuse a document too deep or too large once its YAML aliases are expanded, as everything after walks
    it expanded. The walk is iterative and stops at the first bound, so a bomb costs MAX_VALUES steps at most."""
    pending: list[tuple[Any, int]] = [(document, 0)]
    seen = 0
    while pending:
        value, depth = pending.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise InventoryError(where, f"holds more than {MAX_VALUES} values once its YAML aliases are expanded "
                                 "(an alias bomb?)")
        if depth > MAX_DEPTH:
            raise InventoryError(where, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, Mapping):
            pending.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)


def read_lab(path: Path) -> dict[str, Any]:
    """The lab stack's values, bounded as the inventory is: notes and checks print and walk them."""
    try:
        values = read_stack_values(path)
    except RecursionError:
        raise InventoryError(f"lab stack {path}", f"nested deeper than {MAX_DEPTH} levels") from None
    except (yaml.YAMLError, OSError, UnicodeDecodeError, AttributeError) as exc:
        raise InventoryError(f"lab stack {path}", f"cannot read it ({exc.__class__.__name__})") from None
    check_bounded(values, f"lab stack {path}")
    return values


def _is_provisionhost(host: Mapping[str, Any]) -> bool:
    return host.get("role") == "provisionhost" or "provisionhost" in str(host.get("name", ""))


def _networks(raw: Any, where: str, resolver: Resolver, notes: list[str]) -> list[dict[str, Any]]:
    """The provisioning/baremetal NICs in the inventory's order; other libvirt networks are not ocplab's."""
    networks: list[dict[str, Any]] = []
    for index, net in enumerate(resolver.value(raw, where) or []):
        at = f"{where}[{index}]"
        if not isinstance(net, Mapping) or not isinstance(net.get("name"), str):
            raise InventoryError(at, "must be a mapping with a name")
        if net["name"] not in NETWORKS:
            notes.append(f"{at}: network {net['name']!r} dropped (ocplab only wires {', '.join(NETWORKS)})")
            continue
        entry: dict[str, Any] = {"name": net["name"]}
        if net.get("mac") is not None:
            if not isinstance(net["mac"], str):
                raise InventoryError(f"{at}.mac", f"YAML read {net['mac']!r}, not a MAC; quote the address")
            entry["mac"] = net["mac"]
        networks.append(entry)
    return networks


def _image_of(source: Any, opts: Options, unmapped: dict[str, list[str]], host: str) -> str | None:
    if source is None:
        return None
    if str(source) in opts.images_map:
        return opts.images_map[str(source)]
    unmapped.setdefault(str(source), []).append(host)
    return None


def convert(variables: Mapping[str, Any], opts: Options) -> Imported:
    """The cluster stack's `ocplab:*` values (keys without prefix) for an inventory's all.vars."""
    resolver = Resolver(variables)
    notes: list[str] = []
    cluster = resolver.value(variables.get("cluster", opts.stack), "all.vars.cluster")
    if not isinstance(cluster, str) or not cluster:
        raise InventoryError("all.vars.cluster", "missing; set it in the inventory or pass --stack")
    raw_hosts = resolver.value(variables["hosts"], "all.vars.hosts") if isinstance(variables["hosts"], str) \
        else variables["hosts"]
    if not isinstance(raw_hosts, list) or not all(isinstance(h, Mapping) for h in raw_hosts):
        raise InventoryError("all.vars.hosts", "must be a list of host mappings")
    hosts: list[dict[str, Any]] = []
    images: list[str | None] = []
    dropped: set[str] = set()
    unmapped: dict[str, list[str]] = {}
    for index, raw in enumerate(raw_hosts):
        where = f"all.vars.hosts[{index}]"
        host: dict[str, Any] = {"name": resolver.value(raw.get("name"), f"{where}.name")}
        host.update({key: resolver.value(raw[key], f"{where}.{key}") for key in SIZE_KEYS if key in raw})
        host["networks"] = _networks(raw.get("networks"), f"{where}.networks", resolver, notes)
        for key in ("users", "run_commands"):
            if raw.get(key):
                host[key] = resolver.value(raw[key], f"{where}.{key}")
        source = resolver.value(raw.get("image_src"), f"{where}.image_src")
        pinned = opts.image and not _is_provisionhost(host)  # --image is what masters and workers boot
        images.append(None if pinned else _image_of(source, opts, unmapped, str(host["name"])))
        dropped |= set(raw) & set(DROPPED_KEYS)
        if unknown := sorted(set(raw) - {"name", "networks", "users", "run_commands", *SIZE_KEYS, *DROPPED_KEYS}):
            notes.append(f"{where}: dropped {', '.join(unknown)} (not an ocplab host setting)")
        hosts.append(host)
    node_images = [image for host, image in zip(hosts, images, strict=True) if image and not _is_provisionhost(host)]
    default = opts.image or (Counter(node_images).most_common(1)[0][0] if node_images else DEFAULT_IMAGE)
    for host, image in zip(hosts, images, strict=True):
        if image and image != default:
            host["image"] = image
    notes += [f"image_src {url} (on {', '.join(names)}) is not in --images-map; using {default}"
              for url, names in unmapped.items()]
    single = len(hosts) == 1 and not _is_provisionhost(hosts[0])
    values = {"kind": "cluster", "lab": opts.lab, "cluster": cluster, "topology": "sno" if single else "ipi",
              "hypervisor": opts.hypervisor, "image": default, "hosts": hosts}
    return Imported(stack=opts.stack or cluster, values=values, dropped=dropped, notes=notes)


def check_against_lab(imported: Imported, variables: Mapping[str, Any]) -> None:
    """Catch a wrong hypervisor or image name now, not at `pulumi up`, when the lab stack file is at hand."""
    lab = imported.values["lab"]
    path = stack_path(lab)
    if not path.is_file():
        imported.notes.append(f"{path} not found; --hypervisor and image names are not checked against lab {lab}")
        return
    lab_values = read_lab(path)
    hypervisors = [h.get("name") for h in lab_values.get("hypervisors") or [] if isinstance(h, Mapping)]
    if imported.values["hypervisor"] not in hypervisors:
        raise InventoryError("--hypervisor", f"{imported.values['hypervisor']!r} is not a hypervisor of lab {lab}; "
                             f"known: {', '.join(map(str, hypervisors)) or 'none'}")
    known = lab_values.get("images") or {}
    used = {imported.values["image"], *(h["image"] for h in imported.values["hosts"] if "image" in h)}
    if missing := sorted(used - set(known)):
        raise InventoryError("--image/--images-map", f"{', '.join(missing)} not among the images of lab {lab} "
                             f"({', '.join(sorted(known)) or 'none'}); add it to ocplab:images of {path.name}")
    domain = variables.get("domain")
    if isinstance(domain, str) and "{{" not in domain and domain != lab_values.get("domain"):
        imported.notes.append(f"all.vars.domain: {domain} differs from lab {lab}'s domain "
                              f"{lab_values.get('domain')}; the nodes' FQDNs change")


def render(imported: Imported, source: str, salt: str | None = None) -> str:
    """The stack file text: a header saying where it came from and what was left out, then the config, and the
    lab stack's `encryptionsalt` when it has one (one passphrase key per command: docs/operations.md)."""
    header = [f"# Cluster {imported.values['cluster']}: imported by `ocplab import` from the",
              f"# dci-openshift-agent libvirt inventory {source}",
              "# (names, sizes and pinned MACs are the inventory's)."]
    if imported.values.get("vips") or any("ip" in n for h in imported.values["hosts"] for n in h["networks"]):
        header.append("# Addresses pinned (networks[].ip, ocplab:vips) are those the lab's dnsmasq gave out before.")
    if imported.dropped:
        header.append(f"# Not imported (ocplab sets them itself): {', '.join(sorted(imported.dropped))}.")
    config: dict[str, Any] = {"config": {f"ocplab:{key}": value for key, value in imported.values.items()}}
    if salt:
        config["encryptionsalt"] = salt
    body = yaml.safe_dump(config, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096)
    return "\n".join(header) + "\n" + body


def import_inventory(inventory: Path, opts: Options, dnsmasq: Sequence[Path] = ()) -> tuple[Imported, str]:
    """The cluster stack an inventory gives and its file's text, checked as `pulumi up` would check it and
    against the lab stack file; with `dnsmasq` files, at the addresses the lab's dnsmasq gives out now."""
    variables = load_inventory(inventory)
    imported = convert(variables, opts)
    if dnsmasq:
        lab_path = stack_path(imported.values["lab"])
        if not lab_path.is_file():
            raise InventoryError("--lab", f"{lab_path} not found; keeping existing addresses needs the lab's "
                                 "slices and domain")
        imported.notes += keep_existing_addresses(imported.values, read_existing_dns(list(dnsmasq)),
                                                  read_lab(lab_path))
    try:
        parse_cluster_config(imported.stack, imported.values)
    except ConfigError as exc:  # its fields are the imported values', not a stack file's the user wrote
        raise InventoryError("the imported cluster", "not valid for ocplab: " + "; ".join(exc.problems)) from None
    check_against_lab(imported, variables)
    salt = lab_salt(stack_path(imported.values["lab"]))
    if salt is not None and not PASSPHRASE_SALT.fullmatch(salt):
        imported.notes.append("the lab stack file's encryptionsalt is not a passphrase salt (v1:...); not copied, so "
                              "`pulumi stack init` gives the cluster a salt of its own")
        salt = None
    return imported, render(imported, str(inventory), salt)


# The passphrase secrets provider's state as Pulumi writes it: v1:<salt>:v1:<nonce>:<ciphertext>, base64 parts.
PASSPHRASE_SALT = re.compile(r"v1:[A-Za-z0-9+/]+=*:v1:[A-Za-z0-9+/]+=*:[A-Za-z0-9+/]+=*")


def lab_salt(lab_path: Path) -> str | None:
    """The lab stack file's `encryptionsalt`, if the file is there and has one ("" when it is not text: never
    printed or walked, so a value made of YAML aliases stays small)."""
    try:
        document = yaml.safe_load(lab_path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    salt = document.get("encryptionsalt") if isinstance(document, dict) else None
    if salt is None:
        return None
    return salt if isinstance(salt, str) else ""


def write_stack_file(path: Path, text: str, force: bool) -> None:
    """The stack file, never over an existing one unless `force`."""
    try:
        with path.open("w" if force else "x") as handle:
            handle.write(text)
    except FileExistsError:
        raise InventoryError("--out", f"{path} exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise InventoryError("--out", f"cannot write {path}: {exc.strerror}") from None
