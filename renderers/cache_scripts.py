"""The lab's image cache on the jumphost (files/cache-*.sh, run by files/service-*.sh): the images to fetch,
nginx's config, and the scripts that fill and serve it and take it away."""

from __future__ import annotations

from core.ip_families import url_host
from core.labconfig import LabConfig
from renderers.shell import b64, script

CONF_DIR = "/etc/ocplab/cache"
SERVICE_USER = "ocplab-cache"
UNIT = "ocplab-cache.service"
PIDFILE = "/run/ocplab-cache/service.pid"  # without systemd: service-run.sh's (root's), not nginx's own
NGINX_PID = "/run/ocplab-cache/nginx.pid"  # nginx's own, which it writes as its user
LOG = "/var/log/ocplab-cache.log"  # without systemd; journald's otherwise
PACKAGE = "nginx-light"  # Debian's smallest nginx (1.22.1 on Debian 12); RHEL's AppStream has nginx


def manifest(lab: LabConfig) -> str:
    """What cache-fetch.sh reads: one `name sha256 source` line per image (no field holds a blank)."""
    assert lab.cache is not None
    return "".join(f"{name} {image.sha256} {image.source}\n" for name, image in sorted(lab.cache.images.items()))


def nginx_config(lab: LabConfig) -> str:
    """nginx serving the cache's files read-only (GET and HEAD), on the jumphost's lab address only (bracketed on
    an IPv6-only lab), as its user:
    every path it writes is in its runtime directory."""
    cache = lab.cache
    assert cache is not None
    run = PIDFILE.rsplit("/", 1)[0]
    temps = "".join(f"    {kind}_temp_path {run}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                           "scgi"))
    return (f"# Managed by ocplab (lab stack {lab.name}). Changes are overwritten by `pulumi up`.\n"
            "daemon off;\nworker_processes 1;\n"
            f"pid {NGINX_PID};\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            "    default_type application/octet-stream;\n"
            "    access_log off;\n    server_tokens off;\n    sendfile on;\n    tcp_nopush on;\n"
            f"{temps}"
            "    server {\n"
            f"        listen {url_host(lab.jumphost.ssh.address)}:{cache.port};\n"
            f"        root {cache.storage};\n"
            "        autoindex off;\n"
            "        location ~ /\\. { return 404; }  # its bookkeeping (.ocplab): not served\n"
            "        location / { limit_except GET { deny all; } }\n"
            "    }\n"
            "}\n")


def cache_apply_script(lab: LabConfig) -> str:
    cache = lab.cache
    assert cache is not None
    return script("way-out-common", "cache-fetch", "cache-serve", "service-run", "cache-ready", storage=cache.storage,
                  manifest_b64=b64(manifest(lab)), conf_dir=CONF_DIR, conf_b64=b64(nginx_config(lab)),
                  user=SERVICE_USER, unit=UNIT, pidfile=PIDFILE, log=LOG, address=url_host(lab.jumphost.ssh.address),
                  port=cache.port, names=sorted(cache.images), package=PACKAGE)


def cache_remove_script(lab: LabConfig) -> str:
    """Stop and remove the server; the images only where the config says keep_data: false."""
    cache = lab.cache
    assert cache is not None
    return script("way-out-common", "service-remove", what="the image cache", storage=cache.storage,
                  conf_dir=CONF_DIR, user=SERVICE_USER, unit=UNIT, pidfile=PIDFILE, log=LOG,
                  keep_data="yes" if cache.keep_data else "no")
