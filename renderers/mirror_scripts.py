"""The lab's mirror registry on the jumphost (files/mirror-*.sh, run by files/service-*.sh): its config from the
lab config, and the scripts that start it and take it away; with ocplab's build (`registry: bundled`), the scripts
that install that build from its upload and remove it (files/registry-*.sh). Its TLS key and htpasswd line travel on
stdin (`mirror_stdin`)."""

from __future__ import annotations

import base64

import yaml

from core.ip_families import url_host
from core.labconfig import LabConfig
from core.registry_build import REMOTE_BINARY, REMOTE_UPLOAD, RegistryBuild
from renderers.shell import b64, script

CONF_DIR = "/etc/ocplab/mirror"  # config, certificate, key and htpasswd: root:SERVICE_USER, 0750
SERVICE_USER = "ocplab-mirror"  # the system user it runs as, owner of its storage
UNIT = "ocplab-mirror.service"
PIDFILE = "/run/ocplab-mirror/registry.pid"  # without systemd
LOG = "/var/log/ocplab-mirror.log"  # without systemd; journald's otherwise
PACKAGE = "docker-registry"  # Debian's build of the CNCF distribution registry (2.8.2 on Debian 12)


def registry_config(lab: LabConfig, build: RegistryBuild | None = None) -> str:
    """The registry's config.yml: TLS and htpasswd, on the jumphost's lab address only (`[address6]:port` on an
    IPv6-only lab), images in the storage.
    Distribution 2.8.2 (Debian's) and v3 take it alike. With ocplab's build it names the build, so a new build
    changes the file and restarts the registry."""
    mirror = lab.mirror
    assert mirror is not None
    # No http.host: Location headers follow the name the client used (mirror.<domain>, or the address).
    config = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "fields": {"service": "ocplab-mirror"}},
        "storage": {"filesystem": {"rootdirectory": mirror.storage}, "delete": {"enabled": True},
                    "cache": {"blobdescriptor": "inmemory"}},
        "http": {"addr": f"{url_host(lab.jumphost.ssh.address)}:{mirror.port}",
                 "tls": {"certificate": f"{CONF_DIR}/tls.crt", "key": f"{CONF_DIR}/tls.key", "minimumtls": "tls1.2"},
                 "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "auth": {"htpasswd": {"realm": f"ocplab mirror of {lab.name}", "path": f"{CONF_DIR}/htpasswd"}},
        "health": {"storagedriver": {"enabled": True, "interval": "10s", "threshold": 3}},
    }
    served_by = f"# Served by {build.label}, sha256 {build.sha256}.\n" if build else ""
    return f"# Managed by ocplab (lab stack {lab.name}). Changes are overwritten by `pulumi up`.\n" + served_by + \
        yaml.safe_dump(config, sort_keys=False)


def mirror_stdin(server_key: str, htpasswd_line: str) -> str:
    """What mirror-apply.sh reads on stdin: the TLS key (base64, one line), then the htpasswd line."""
    return base64.b64encode(server_key.encode()).decode() + "\n" + htpasswd_line + "\n"


def mirror_apply_script(lab: LabConfig, certificate: str, ca_certificate: str,
                        build: RegistryBuild | None = None, reinstall: str = "") -> str:
    """Start (or keep) the registry: ocplab's `build` (installed by `registry_install_script`; `reinstall`: the
    `pulumi up --replace` arguments that install it again), else the distribution's package. Without a build it is
    the script labs ran before `registry: bundled` existed, to the byte, so such a lab set to `system` sees no
    change."""
    mirror = lab.mirror
    assert mirror is not None
    which = ("mirror-bundled",) if build else ("mirror-package",)
    chosen: dict[str, str] = {"binary": REMOTE_BINARY, "binary_sha256": build.sha256, "version": build.version,
                              "reinstall": reinstall} if build else {"package": PACKAGE}
    return script("way-out-common", "mirror-login", *which, "mirror-apply", "service-run", "mirror-ready",
                  conf_dir=CONF_DIR, conf_b64=b64(registry_config(lab, build)),
                  cert_b64=b64(certificate), ca_b64=b64(ca_certificate), storage=mirror.storage, user=SERVICE_USER,
                  unit=UNIT, pidfile=PIDFILE, log=LOG, host=mirror.host(lab.domain),
                  address=url_host(lab.jumphost.ssh.address),
                  port=mirror.port, **chosen)


def registry_install_script(build: RegistryBuild, upload_urn: str) -> str:
    """ocplab's build into place from its upload, its sha256 checked first (`upload_urn`: what a fix replaces)."""
    return script("way-out-common", "registry-install", upload=REMOTE_UPLOAD, binary=REMOTE_BINARY,
                  binary_sha256=build.sha256, version=build.version, upload_urn=upload_urn)


def registry_remove_script() -> str:
    """Remove the build, unless the registry's config still names it (the old half of a replacement)."""
    return script("way-out-common", "registry-remove", upload=REMOTE_UPLOAD, binary=REMOTE_BINARY,
                  config=f"{CONF_DIR}/config.yml")


def mirror_remove_script(lab: LabConfig) -> str:
    """Stop and remove the registry; its storage only where the config says keep_data: false."""
    mirror = lab.mirror
    assert mirror is not None
    return script("way-out-common", "service-remove", what="the mirror registry", conf_dir=CONF_DIR,
                  storage=mirror.storage, user=SERVICE_USER, unit=UNIT, pidfile=PIDFILE, log=LOG,
                  keep_data="yes" if mirror.keep_data else "no")
