"""The lab's certificate authority and the server certificates it signs (the mirror's), with the cryptography
package. The CA key is derived from the lab's SSH key (as the mirror's and BMCs' passwords are) and kept by the lab
stack (a Pulumi secret in its state): a lab destroy, which keeps the mirror's images, therefore gives the next `up`
the same key, and whatever trusted the CA before (a cluster's additionalTrustBundle) trusts it still. Everything
signed from it is a function of that key and its inputs (keys derived from it, deterministic ECDSA signatures), so
every `pulumi up` renders the same certificate and changes nothing until a name or address does."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CURVE = ec.SECP256R1()  # P-256: what every TLS client of a lab speaks (Go, OpenSSL, RHCOS), and fast to make
VALIDITY = timedelta(days=3650)
# Signatures are deterministic (RFC 6979, `ecdsa_deterministic`): one certificate per input.


@dataclass(frozen=True)
class ServerCertificate:
    certificate: str  # PEM
    key: str  # PEM (PKCS#8): a secret


def lab_ca_key(private_key: str, lab: str) -> str:
    """Lab `lab`'s CA key, PEM (PKCS#8), derived from the lab's SSH private key: the same for as long as the lab
    key is (whoever holds that key is root on the jumphost, where the registry's TLS key lives anyway)."""
    seed = hmac.new(private_key.encode(), f"ocplab-lab-ca:{lab}".encode(), hashlib.sha512).digest()
    return _pem(ec.derive_private_key(int.from_bytes(seed, "big") % (_ORDER - 1) + 1, CURVE))


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def since_day(now: datetime) -> str:
    """The start of the CA's validity: the day before it was made (clocks in a lab disagree), UTC."""
    return (now.astimezone(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")


def _load(key_pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the lab CA key is not an EC key")
    return key


def _start(since: str) -> datetime:
    return datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _serial(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:16], "big") >> 1 | 1


def ca_certificate(key_pem: str, lab: str, since: str) -> str:
    """The lab CA's self-signed certificate (PEM), valid ten years from `since`; only for servers of the lab
    (path length 0)."""
    key = _load(key_pem)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ocplab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"ocplab lab {lab} CA")])
    public = key.public_key()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
            .serial_number(_serial("ca", lab, since)).not_valid_before(_start(since))
            .not_valid_after(_start(since) + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256(), ecdsa_deterministic=True))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def server_certificate(ca_key_pem: str, ca_pem: str, names: list[str], addresses: list[str],
                       ) -> ServerCertificate:
    """A TLS server certificate for `names` and `addresses` (IP SANs, IPv4 or IPv6), signed by the lab CA, valid as
    long as the CA.
    Its key is derived from the CA key and the names, so it is the same on every run."""
    ca_key = _load(ca_key_pem)
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    seed = hmac.new(ca_key.private_numbers().private_value.to_bytes(32, "big"),
                    ("ocplab-server\0" + "\0".join(names + addresses)).encode(), hashlib.sha512).digest()
    key = ec.derive_private_key(int.from_bytes(seed, "big") % (_ORDER - 1) + 1, CURVE)
    san = [*(x509.DNSName(n) for n in names), *(x509.IPAddress(ip_address(a)) for a in addresses)]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(_serial("server", *names, *addresses, ca.serial_number.to_bytes(16, "big").hex()))
            .not_valid_before(ca.not_valid_before_utc).not_valid_after(ca.not_valid_after_utc)
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256(), ecdsa_deterministic=True))
    return ServerCertificate(certificate=cert.public_bytes(serialization.Encoding.PEM).decode(), key=_pem(key))


# The order of P-256's group: a derived scalar must lie in [1, n-1].
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
