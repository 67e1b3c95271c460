"""The guest's YAML-subset parser (cloudinit.awk), run with the host's busybox awk and sh:
the same binaries the guest gets, so what passes here behaves the same in the guest."""

from __future__ import annotations

import subprocess
from pathlib import Path

from simlab.guest.console import RunCmd, parse_console
from simlab.guest.initramfs import ASSETS, BUSYBOX, check_busybox

USER_DATA = """\
#cloud-config
# a comment
hostname: ci-host-0   # trailing comment
fqdn: "ci-host-0.lab.test"
users:
  - default
  - name: core
    gecos: Core User
    groups: [wheel, adm]
    sudo: ['ALL=(ALL) NOPASSWD:ALL']
    ssh_authorized_keys:
      - ssh-ed25519 AAAAKEY1 test@ocplab
      - "ssh-rsa AAAAKEY2 second"
  -   shell: /bin/ash
      ssh-authorized-keys: [ 'ssh-ed25519 KEY3 b@x', "ssh-ed25519 KEY4" ]
      name: bob
  - alice
ssh_authorized_keys:
- ssh-ed25519 ROOTKEY root@x
runcmd:
- touch "$OUT/marker"
- [ sh, -c, "test -f \\"$OUT/marker\\" && echo flow-ok" ]
- 'echo ''quoted'' # not a comment'
- echo plain # a comment
- |
  echo multi
  test -f "$OUT/marker"

- >
  echo folded
  words
- false
write_files:
  - path: /x
    content: |
      - not a runcmd
"""


def awk(tmp_path: Path, text: str, *extra: str) -> list[list[str]]:
    check_busybox()
    src = tmp_path / "data.yaml"
    src.write_text(text)
    out = subprocess.run([str(BUSYBOX), "awk", *extra, "-f", str(ASSETS / "cloudinit.awk"), str(src)],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def test_user_data_records(tmp_path: Path) -> None:
    assert awk(tmp_path, USER_DATA) == [
        ["top", "hostname", "ci-host-0"],
        ["top", "fqdn", "ci-host-0.lab.test"],
        ["user", "core"],
        ["key", "core", "ssh-ed25519 AAAAKEY1 test@ocplab"],
        ["key", "core", "ssh-rsa AAAAKEY2 second"],
        ["user-end", "core"],
        ["user", "bob"],
        ["user-shell", "bob", "/bin/ash"],
        ["key", "bob", "ssh-ed25519 KEY3 b@x"],
        ["key", "bob", "ssh-ed25519 KEY4"],
        ["user-end", "bob"],
        ["user", "alice"],
        ["user-end", "alice"],
        ["user", "root"],
        ["key", "root", "ssh-ed25519 ROOTKEY root@x"],
        ["user-end", "root"],
    ]


def test_runcmd_script_runs_items_in_one_shell(tmp_path: Path) -> None:
    script = tmp_path / "runcmd.sh"
    awk(tmp_path, USER_DATA, "-v", f"runcmd={script}", "-v", "console=/dev/stdout")
    proc = subprocess.run([str(BUSYBOX), "sh", str(script)], capture_output=True, text=True,
                          env={"OUT": str(tmp_path), "PATH": "/usr/bin:/bin"}, check=False)
    report = parse_console(proc.stdout)
    assert report.cloud_init.runcmds == [
        RunCmd(0, 'touch "$OUT/marker"'),
        RunCmd(0, "'sh' '-c' 'test -f \"$OUT/marker\" && echo flow-ok'"),
        RunCmd(0, "echo 'quoted' # not a comment"),
        RunCmd(0, "echo plain"),
        RunCmd(0, 'echo multi\\ntest -f "$OUT/marker"'),
        RunCmd(0, "echo folded words"),
        RunCmd(1, "false"),
    ]
    assert (tmp_path / "marker").exists()
    printed = [line for line in proc.stdout.splitlines() if not line.startswith("OCPLAB:")]
    assert printed == ["flow-ok", "quoted", "plain", "multi", "folded words"]


def test_meta_data_and_flow_runcmd(tmp_path: Path) -> None:
    meta = "instance-id: iid-1\nlocal-hostname: 'md-host'\r\n"
    assert awk(tmp_path, meta) == [["top", "instance-id", "iid-1"], ["top", "local-hostname", "md-host"]]
    script = tmp_path / "r.sh"
    flow = "#cloud-config\nruncmd: [ 'echo a', echo b ]\n"
    awk(tmp_path, flow, "-v", f"runcmd={script}", "-v", "console=/dev/stdout")
    out = subprocess.run([str(BUSYBOX), "sh", str(script)], capture_output=True, text=True, check=True).stdout
    assert parse_console(out).cloud_init.runcmds == [RunCmd(0, "echo a"), RunCmd(0, "echo b")]
