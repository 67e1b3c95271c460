"""A PostgreSQL server for Pulumi's team backend, inside the simulated lab's jumphost namespace.

Debian's postgresql, a private cluster in a throwaway folder, listening on the jumphost's lab
address only; the `ocplab` role gets a password of its own, set over the local socket (stdin,
never a command line) and handed to clients as a libpq passfile (PGPASSFILE), so the backend
URL `postgres://ocplab@192.168.16.1:5432/pulumi` holds no secret.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from simlab.clients import jumphost_argv
from simlab.errors import PreflightError

JUMPHOST_IP = "192.168.16.1"


def postgres_bin() -> Path:
    """The newest /usr/lib/postgresql/<major>/bin, or the install hint."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise PreflightError("PostgreSQL not found: apt-get install postgresql (Debian's server package)")
    return found[-1].parent


@dataclass
class PostgresServer:
    address: str = JUMPHOST_IP
    port: int = 5432
    database: str = "pulumi"
    role: str = "ocplab"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ocplab-pg-", dir="/var/tmp")))
    password: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)

    @property
    def url(self) -> str:
        """The backend URL clients use (the password comes from the passfile)."""
        return f"postgres://{self.role}@{self.address}:{self.port}/{self.database}?sslmode=disable"

    @property
    def passfile(self) -> Path:
        return self.root / "pgpass"

    def _as_postgres(self, *argv: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        command = jumphost_argv(["runuser", "-u", "postgres", "--", *argv])
        result = subprocess.run(command, input=input, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result

    def start(self) -> PostgresServer:
        """initdb, start on the lab address, create the role and its database, write the passfile."""
        bin_dir = postgres_bin()
        uid = pwd.getpwnam("postgres").pw_uid
        data, sockets = self.root / "data", self.root / "sockets"
        os.chown(self.root, uid, -1)
        os.chmod(self.root, 0o711)
        self._as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=peer",
                          "--auth-host=scram-sha-256")
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host {self.database} {self.role} {self.address.rsplit('.', 1)[0]}.0/24 scram-sha-256\n")
        sockets.mkdir()
        os.chown(sockets, uid, -1)
        options = f"-c listen_addresses={self.address} -c port={self.port} -c unix_socket_directories={sockets}"
        self._as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(self.root / "server.log"), "-w",
                          "-o", options, "start")
        quoted = self.password.replace("'", "''")
        self._as_postgres(str(bin_dir / "psql"), "-h", str(sockets), "-p", str(self.port), "-v", "ON_ERROR_STOP=1",
                          "-q", "-d", "postgres",
                          input=f"CREATE ROLE {self.role} LOGIN PASSWORD '{quoted}';\n"
                                f"CREATE DATABASE {self.database} OWNER {self.role};\n")
        self.passfile.write_text(f"{self.address}:{self.port}:{self.database}:{self.role}:{self.password}\n")
        self.passfile.chmod(0o600)
        return self

    def client_env(self) -> dict[str, str]:
        """What a pulumi process needs to use this backend."""
        return {"PULUMI_BACKEND_URL": self.url, "PGPASSFILE": str(self.passfile)}

    def sql(self, query: str) -> list[str]:
        """Rows of `query` (one column), as the postgres superuser over the local socket."""
        result = self._as_postgres(str(postgres_bin() / "psql"), "-h", str(self.root / "sockets"), "-p",
                                   str(self.port), "-At", "-d", self.database, input=query)
        return [line for line in result.stdout.splitlines() if line]

    def stop(self) -> None:
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            self._as_postgres(str(postgres_bin() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
