"""The mirror registry's login: a password derived from the lab's SSH key (as the BMC passwords are), so the lab
and its cluster stacks compute the same one and none stores it, and its htpasswd line (bcrypt, as the
registry accepts), derived too so every `pulumi up` sends the same file."""

from __future__ import annotations

import base64
import hashlib
import hmac

import bcrypt

PASSWORD_LENGTH = 32
# The registry checks the hash on every request (each blob of a pull): 10 costs ~60 ms of one core; 12 is 4x.
BCRYPT_ROUNDS = 10
_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _derived(private_key: str, what: str) -> bytes:
    return hmac.new(private_key.encode(), f"ocplab-mirror:{what}".encode(), hashlib.sha256).digest()


def mirror_password(private_key: str, lab: str) -> str:
    """The registry password of lab `lab`: stable for a lab key, never stored; letters, digits, '-' and '_'."""
    return base64.urlsafe_b64encode(_derived(private_key, f"password:{lab}")).decode()[:PASSWORD_LENGTH]


def htpasswd_line(user: str, password: str, private_key: str, lab: str) -> str:
    """`user:$2b$...` with a salt derived from the lab key: the same line on every run for one password."""
    raw = base64.b64encode(_derived(private_key, f"salt:{lab}")[:16]).decode().rstrip("=")[:22]
    salt = f"$2b${BCRYPT_ROUNDS:02d}${raw.translate(str.maketrans(_STANDARD, _BCRYPT_ALPHABET))}".encode()
    return f"{user}:{bcrypt.hashpw(password.encode(), salt).decode()}"
