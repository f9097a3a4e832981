"""SSRF guard for webhook URLs: a table of allowed and refused URLs on a fake resolver."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from detector.alerts.ssrf import (
    CheckedURL,
    blocked_reason,
    check_url,
    redact_url,
    resolve_host,
)
from detector.errors import AlertError, DetectorError, HostResolutionError, UnsafeURLError

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"

DNS = {
    "hooks.example.com": [PUBLIC_V4],
    "dual.example.com": [PUBLIC_V4, PUBLIC_V6],
    "localhost": ["127.0.0.1", "::1"],
    "intranet.example.com": ["10.20.30.40"],
    # One public and one private answer: the client may connect to either, so refuse.
    "mixed.example.com": [PUBLIC_V4, "10.0.0.5"],
    "mixed6.example.com": [PUBLIC_V6, "fd00::5"],
    "metadata.example.com": ["169.254.169.254"],
    "rebind.example.com": ["::ffff:127.0.0.1"],
}


def fake_resolve(host: str, port: int) -> list[str]:
    assert isinstance(port, int)
    host = host.rstrip(".")  # as DNS does: "example.com." is fully qualified "example.com"
    if host not in DNS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return DNS[host]


def no_dns(host: str, _port: int) -> list[str]:
    raise AssertionError(f"resolved {host!r}, but IP literals need no DNS")


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/services/T0/B0/secret",
        "http://hooks.example.com",
        "HTTPS://Hooks.Example.COM:8443/x?y=1#z",
        "https://dual.example.com/hook",
        f"https://{PUBLIC_V4}/hook",
        f"http://[{PUBLIC_V6}]:8080/hook",
        "http://[2002:5db8:d70e::1]/",  # 6to4 of a public IPv4 address
        "https://hooks.example.com./trailing-dot",
    ],
)
def test_allowed(url: str) -> None:
    checked = check_url(url, resolve=fake_resolve)
    assert checked.url == url
    assert checked.addresses


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # Not http(s), no host, credentials, unparsable.
        ("ftp://hooks.example.com/x", "scheme must be http or https"),
        ("file:///etc/passwd", "scheme must be http or https"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme must be http or https"),
        ("javascript:alert(1)", "scheme must be http or https"),
        ("hooks.example.com/x", "scheme must be http or https"),
        ("https:///path-only", "no host"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("https://user@hooks.example.com/", "credentials"),
        ("http://127.0.0.1:80@hooks.example.com/", "credentials"),
        ("http://hooks.example.com:99999/", "not a valid URL"),
        ("http://hooks.example.com:port/", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),
        ("http://evil.example\\@127.0.0.1/", "backslashes"),
        ("http://hooks.example.com/a b", "whitespace"),
        ("http://hooks.exa\tmple.com/", "whitespace"),
        ("http://exämple.com/", "punycode"),
        # Loopback and unspecified.
        ("http://127.0.0.1/", "loopback"),
        ("http://127.8.9.10:8080/", "loopback"),
        ("http://localhost:5432/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://0.1.2.3/", "not globally routable"),
        # Private (RFC 1918, ULA) and shared (CGNAT).
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://172.31.255.255/", "private"),
        ("http://192.168.1.1/admin", "private"),
        ("http://[fd12:3456::1]/", "private"),
        ("http://[fc00::1]/", "private"),
        ("http://100.64.0.1/", "CGNAT"),
        ("http://100.127.255.254/", "CGNAT"),
        ("https://intranet.example.com/", "private"),
        # Link-local and cloud metadata.
        ("http://169.254.1.1/", "link-local"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
        ("http://169.254.170.2/v2/credentials", "cloud metadata"),
        ("http://100.100.100.200/latest/meta-data/", "cloud metadata"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fe80::1%25eth0]/", "link-local"),
        ("http://metadata.example.com/", "cloud metadata"),
        # Multicast, reserved, broadcast, documentation.
        ("http://224.0.0.1/", "multicast"),
        ("http://239.255.255.250:1900/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://240.0.0.1/", "not globally routable"),
        ("http://255.255.255.255/", "not globally routable"),
        ("http://192.0.2.10/", "not globally routable"),
        ("http://198.18.0.1/", "not globally routable"),
        # IPv4 inside IPv6: mapped, NAT64, 6to4, and a resolver answering mapped.
        ("http://[::ffff:127.0.0.1]/", "loopback (127.0.0.1)"),
        ("http://[::ffff:a9fe:a9fe]/", "cloud metadata endpoint (169.254.169.254)"),
        ("http://[::ffff:10.1.2.3]/", "private (10.1.2.3)"),
        ("http://[64:ff9b::a00:1]/", "private (10.0.0.1)"),
        ("http://[2002:a00:1::1]/", "private (10.0.0.1)"),
        ("http://[2002:7f00:1::]/", "loopback (127.0.0.1)"),
        ("http://rebind.example.com/", "loopback (127.0.0.1)"),
        # Teredo (RFC 4380 example): the client behind the relay is 192.0.2.45.
        ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "(192.0.2.45)"),
        # IPv4 in forms resolvers accept and ipaddress does not.
        ("http://2130706433/", "non-standard form"),
        ("http://0x7f000001/", "non-standard form"),
        ("http://0x7f.1/", "non-standard form"),
        ("http://127.1/", "non-standard form"),
        ("http://017700000001/", "non-standard form"),
        ("http://127.0.0.1./", "non-standard form"),
        # One public and one private address.
        ("https://mixed.example.com/hook", "resolves to 10.0.0.5, which is private"),
        ("https://mixed6.example.com/hook", "resolves to fd00::5, which is private"),
    ],
)
def test_blocked(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        check_url(url, resolve=fake_resolve)
    assert reason in str(info.value)
    assert isinstance(info.value, AlertError)
    assert isinstance(info.value, DetectorError)
    assert isinstance(info.value, ValueError)


def test_message_names_url_and_address_but_not_the_token() -> None:
    url = "https://intranet.example.com/services/T0/B0/s3cr3t-token?k=v"
    with pytest.raises(UnsafeURLError) as info:
        check_url(url, resolve=fake_resolve)
    error = info.value
    assert error.url == "https://intranet.example.com/..."
    assert error.address == "10.20.30.40"
    assert str(error) == (
        "https://intranet.example.com/...: "
        "intranet.example.com resolves to 10.20.30.40, which is private"
    )
    assert "s3cr3t" not in str(error)


def test_ip_literal_message() -> None:
    with pytest.raises(UnsafeURLError, match=r"^http://10\.0\.0\.1:8080/\.\.\.: 10\.0\.0\.1 is"):
        check_url("http://10.0.0.1:8080/hook", resolve=no_dns)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/",
        "http://10.0.0.1/",
        "http://192.168.1.20/",
        "http://[fd12::1]/",
        "http://[fe80::1]/",
        "http://169.254.1.1/",
        "http://100.64.0.1/",
        "http://[::ffff:192.168.0.1]/",
        "https://intranet.example.com/",
        "https://mixed.example.com/hook",
        "https://hooks.example.com/",
    ],
)
def test_allow_private_lifts_lan_ranges(url: str) -> None:
    assert check_url(url, allow_private=True, resolve=fake_resolve).addresses


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/", "cloud metadata"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
        ("http://metadata.example.com/", "cloud metadata"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "not globally routable"),
        ("http://192.0.2.10/", "not globally routable"),
        ("ftp://10.0.0.1/", "scheme"),
        ("http://u:p@10.0.0.1/", "credentials"),
    ],
)
def test_allow_private_keeps_the_rest_blocked(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError, match=reason):
        check_url(url, allow_private=True, resolve=fake_resolve)


def test_ip_literals_are_not_resolved() -> None:
    checked = check_url(f"https://{PUBLIC_V4}:8443/x", resolve=no_dns)
    assert checked == CheckedURL(
        url=f"https://{PUBLIC_V4}:8443/x",
        scheme="https",
        host=PUBLIC_V4,
        port=8443,
        addresses=(ipaddress.ip_address(PUBLIC_V4),),
    )


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("http://hooks.example.com/", 80),
        ("https://hooks.example.com/", 443),
        ("http://hooks.example.com:8080/", 8080),
    ],
)
def test_resolver_gets_host_and_port(url: str, port: int) -> None:
    seen = []

    def resolve(host: str, port: int) -> list[str]:
        seen.append((host, port))
        return [PUBLIC_V4]

    assert check_url(url, resolve=resolve).port == port
    assert seen == [("hooks.example.com", port)]


def test_resolution_failures() -> None:
    with pytest.raises(HostResolutionError, match="cannot resolve 'nowhere.example.com'") as info:
        check_url("https://nowhere.example.com/x/token", resolve=fake_resolve)
    assert isinstance(info.value, OSError)  # retryable like other network errors
    assert info.value.url == "https://nowhere.example.com/..."
    with pytest.raises(HostResolutionError, match="no addresses"):
        check_url("https://empty.example.com/", resolve=lambda _host, _port: [])
    with pytest.raises(HostResolutionError, match="resolver returned 'garbage'"):
        check_url("https://odd.example.com/", resolve=lambda _host, _port: ["garbage"])


def test_resolve_host_uses_getaddrinfo_without_network() -> None:
    assert resolve_host("127.0.0.1", 80) == ["127.0.0.1"]
    assert resolve_host("::1", 80) == ["::1"]


@pytest.mark.parametrize(
    ("address", "allow_private", "reason"),
    [
        ("8.8.8.8", False, None),
        ("2001:4860:4860::8888", False, None),
        ("127.0.0.1", False, "loopback"),
        ("127.0.0.1", True, None),
        ("169.254.169.254", True, "a cloud metadata endpoint"),
        ("::ffff:8.8.8.8", False, None),  # judged as the IPv4 address it reaches
        ("64:ff9b::808:808", False, None),  # NAT64 of 8.8.8.8
        ("2001:db8::1", False, "reserved or not globally routable"),
        ("2001:db8::1", True, "reserved or not globally routable"),
    ],
)
def test_blocked_reason(address: str, allow_private: bool, reason: str | None) -> None:
    ip = ipaddress.ip_address(address)
    assert blocked_reason(ip, allow_private=allow_private) == reason


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/..."),
        ("https://user:pw@example.com:8443/x", "https://***@example.com:8443/..."),
        ("https://example.com/", "https://example.com"),
        ("https://example.com?token=1", "https://example.com/..."),
        ("http://[::1]:8080/a", "http://[::1]:8080/..."),
        ("not a url", "<unparsable URL>"),
        ("http://[::1/", "<unparsable URL>"),
    ],
)
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted
