"""The DNS checks behind ``POST /api/admin/domains/{id}/verify`` (docs/domains.md, docs/runbooks.md, D14), made with real lookups through
:mod:`scaisend.resolver`. No database here: :mod:`scaisend.domains.service` applies the report to the row.

- DKIM passes when a TXT record at ``<selector>._domainkey.<domain>`` carries a ``p=`` equal to the public key we hold
  (quotes pasted into the value, escaped ``\\;`` and whitespace inside ``p=`` are tolerated; ``v=`` if present must be
  ``DKIM1`` and ``k=`` if present ``rsa``).
- SPF passes when the domain has exactly one ``v=spf1`` TXT record and it contains ``a:<SMTP_HOSTNAME>`` or
  ``include:<SMTP_HOSTNAME>`` (optionally with a ``+`` qualifier or an ``a`` CIDR suffix).
- DMARC passes when ``_dmarc.<domain>`` has exactly one TXT record starting with ``v=DMARC1``; for ``/verify`` its
  policy may be stricter or looser than the one stored on the domain, while the reputation monitor's health check
  (:func:`health_checks`) also wants the ``p=`` the tenant chose.
- MX (health check only) passes when the domain has an MX record that is not a null MX (RFC 7505): replies and
  bounces to it can be delivered.

A lookup that times out or fails counts as a failed check, with a message that says so and ``lookup_failed`` set,
so that a monitor can tell "the record is wrong" from "DNS did not answer".

The reputation monitor (:mod:`scaisend.reputation.monitor`) runs these same checks on a schedule.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from scaisend.domains.dns_records import Purpose, dkim_host, dmarc_host, spf_mechanism
from scaisend.resolver import (
    DnsLookupError,
    DnsNameNotFoundError,
    DnsNoAnswerError,
    DnsTimeoutError,
    Resolver,
    mx_records,
    txt_records,
)
from scaisend.settings import Settings

_LABELS: dict[Purpose, str] = {
    "dkim": "DKIM",
    "dkim_rotation": "DKIM (rotation)",
    "spf": "SPF",
    "dmarc": "DMARC",
    "mx": "MX",
}


@dataclass(frozen=True)
class CheckResult:
    """One record's outcome; ``message`` says what is wrong when ``passed`` is false."""

    purpose: Purpose
    host: str
    passed: bool
    message: str = ""
    lookup_failed: bool = False  # DNS did not answer (timeout, SERVFAIL, REFUSED): the record's state is unknown

    def as_error(self) -> dict[str, str]:
        return {"purpose": self.purpose, "host": self.host, "message": self.message}


@dataclass(frozen=True)
class SelectorKey:
    selector: str
    public_key_b64: str


@dataclass(frozen=True)
class VerificationReport:
    dkim: CheckResult
    spf: CheckResult
    dmarc: CheckResult
    rotation: CheckResult | None = None  # the pending rotation key, when there is one

    @property
    def verified(self) -> bool:
        return self.dkim.passed and self.spf.passed and self.dmarc.passed

    @property
    def errors(self) -> list[CheckResult]:
        """The failing checks that decide ``verified`` (a pending rotation key is not one of them)."""
        return [c for c in (self.dkim, self.spf, self.dmarc) if not c.passed]


def _fail(purpose: Purpose, host: str, problem: str) -> CheckResult:
    return CheckResult(purpose, host, False, f"{_LABELS[purpose]} record {host}: {problem}")


def _lookup_failure(purpose: Purpose, host: str, exc: DnsLookupError) -> CheckResult:
    if isinstance(exc, DnsNameNotFoundError | DnsNoAnswerError):
        return _fail(purpose, host, f"no {exc.rdtype} record found")
    problem = "DNS lookup timed out" if isinstance(exc, DnsTimeoutError) else f"DNS lookup failed ({exc.reason})"
    return replace(_fail(purpose, host, problem), lookup_failed=True)


def _clean(record: str) -> str:
    """Undo what DNS control panels commonly add when a value is pasted: surrounding quotes and ``\\;``."""
    return record.replace('"', "").replace("\\;", ";").strip()


def parse_tags(record: str) -> dict[str, str]:
    """``tag=value`` pairs of a DKIM/DMARC record (RFC 6376 §3.2); tag names lower-cased, first one wins."""
    tags: dict[str, str] = {}
    for part in _clean(record).split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags.setdefault(name.strip().lower(), value.strip())
    return tags


def _dkim_problem(record: str, public_key_b64: str) -> str | None:
    tags = parse_tags(record)
    if tags.get("v", "DKIM1") != "DKIM1":
        return f"v={tags['v']} is not v=DKIM1"
    if tags.get("k", "rsa").lower() != "rsa":
        return f"k={tags['k']} is not k=rsa"
    if "p" not in tags:
        return "has no p= tag"
    published = "".join(tags["p"].split())
    if not published:
        return "p= is empty (the key is revoked)"
    if published != public_key_b64:
        return "p= does not match the public key ScaiSend holds for this selector"
    return None


async def check_dkim(resolver: Resolver, domain: str, key: SelectorKey, purpose: Purpose = "dkim") -> CheckResult:
    host = dkim_host(key.selector, domain)
    try:
        records = await txt_records(resolver, host)
    except DnsLookupError as exc:
        return _lookup_failure(purpose, host, exc)
    problems = [_dkim_problem(r, key.public_key_b64) for r in records]
    if any(p is None for p in problems):
        return CheckResult(purpose, host, True)
    return _fail(purpose, host, next((p for p in problems if p), "no TXT record found"))


def _spf_authorizes(record: str, host: str) -> bool:
    for term in _clean(record).lower().split()[1:]:
        term = term.removeprefix("+")
        if term.rstrip(".") == f"include:{host}" or term.partition("/")[0].rstrip(".") == f"a:{host}":
            return True
    return False


async def check_spf(resolver: Resolver, domain: str, settings: Settings) -> CheckResult:
    mechanism = spf_mechanism(settings)
    host = mechanism.removeprefix("a:")
    try:
        records = await txt_records(resolver, domain)
    except DnsLookupError as exc:
        return _lookup_failure("spf", domain, exc)
    spf = [r for r in records if _clean(r).lower() == "v=spf1" or _clean(r).lower().startswith("v=spf1 ")]
    if not spf:
        return _fail("spf", domain, "no v=spf1 TXT record found")
    if len(spf) > 1:
        return _fail("spf", domain, f"{len(spf)} v=spf1 records found; RFC 7208 allows only one, merge them")
    if not _spf_authorizes(spf[0], host):
        return _fail("spf", domain, f"the v=spf1 record does not contain {mechanism} (or include:{host})")
    return CheckResult("spf", domain, True)


async def check_dmarc(resolver: Resolver, domain: str, policy: str | None = None) -> CheckResult:
    """DMARC is published; with ``policy``, its ``p=`` must also be that policy."""
    host = dmarc_host(domain)
    try:
        records = await txt_records(resolver, host)
    except DnsLookupError as exc:
        return _lookup_failure("dmarc", host, exc)
    dmarc = [r for r in records if "".join(_clean(r).split(";", 1)[0].split()) == "v=DMARC1"]
    if not dmarc:
        return _fail("dmarc", host, "no TXT record starting with v=DMARC1 found")
    if len(dmarc) > 1:
        return _fail("dmarc", host, f"{len(dmarc)} v=DMARC1 records found; receivers ignore all when several exist")
    published = parse_tags(dmarc[0]).get("p", "").lower()
    if policy is not None and published != policy:
        return _fail(
            "dmarc", host, f"p={published or '(missing)'} is not the policy chosen for the domain (p={policy})"
        )
    return CheckResult("dmarc", host, True)


async def check_mx(resolver: Resolver, domain: str) -> CheckResult:
    """The domain has an MX that accepts mail (not only a null MX)."""
    try:
        records = await mx_records(resolver, domain)
    except DnsLookupError as exc:
        return _lookup_failure("mx", domain, exc)
    if not any(not r.is_null for r in records):
        return _fail("mx", domain, "only a null MX (the domain accepts no mail)")
    return CheckResult("mx", domain, True)


async def verify_records(
    resolver: Resolver, domain: str, settings: Settings, active: SelectorKey, pending: SelectorKey | None = None
) -> VerificationReport:
    """Run every check concurrently: the active DKIM key, SPF, DMARC, and a pending rotation key if any."""
    checks = [
        check_dkim(resolver, domain, active),
        check_spf(resolver, domain, settings),
        check_dmarc(resolver, domain),
    ]
    if pending is not None:
        checks.append(check_dkim(resolver, domain, pending, purpose="dkim_rotation"))
    results = await asyncio.gather(*checks)
    return VerificationReport(
        dkim=results[0], spf=results[1], dmarc=results[2], rotation=results[3] if pending is not None else None
    )


async def health_checks(
    resolver: Resolver, domain: str, settings: Settings, active: SelectorKey, dmarc_policy: str
) -> list[CheckResult]:
    """The reputation monitor's checks of one active sender domain: DKIM equal to the active key, SPF authorising
    ScaiSend, DMARC with the chosen policy, an MX. The same functions ``/verify`` uses."""
    return list(
        await asyncio.gather(
            check_dkim(resolver, domain, active),
            check_spf(resolver, domain, settings),
            check_dmarc(resolver, domain, dmarc_policy),
            check_mx(resolver, domain),
        )
    )
