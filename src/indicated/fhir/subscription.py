"""Da Vinci PAS subscriptions (R4 Subscriptions Backport): a sending system subscribes to the PAS topic
with an ``orgIdentifier`` filter, and is sent the full response Bundle of each of its requests when a
person decides it (PAS spec-51, spec-58, spec-60, spec-61, spec-62).

This module reads a Subscription and writes a notification; the service keeps the subscriptions and
delivers the notifications (:mod:`indicated.service.subscriptions`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from indicated.errors import InputError

TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic"
FILTER = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria"
CONTENT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content"
TRANSMISSION = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-transmissionIdentifiers"
# the PAS topic's one filter, as its canFilterBy names it and as the PAS narrative spells it
_ORG_FILTER = re.compile(r"^\s*(?:orgIdentifier|org-identifier)\s*=\s*([^&]+?)\s*$")


@dataclass(frozen=True)
class Subscription:
    """A PAS subscription as the service keeps it: where to post, for which sending systems."""

    id: str
    endpoint: str
    senders: frozenset[str]  # the sending systems (ISA06) whose requests it follows
    headers: tuple[str, ...] = ()

    def resource(self, status: str = "active") -> dict[str, Any]:
        """The Subscription as FHIR (the headers, which may hold credentials, are never returned)."""
        return {
            "resourceType": "Subscription",
            "id": self.id,
            "status": status,
            "reason": "PAS responses of the sending systems named in the filter",
            "criteria": TOPIC,
            "_criteria": {
                "extension": [{"url": FILTER, "valueString": "orgIdentifier=" + ",".join(sorted(self.senders))}]
            },
            "channel": {
                "type": "rest-hook",
                "endpoint": self.endpoint,
                "payload": "application/fhir+json",
                "_payload": {"extension": [{"url": CONTENT, "valueCode": "full-resource"}]},
            },
        }


def read_subscription(body: Any, *, id: str) -> Subscription:
    """A PAS Subscription from a client, or an InputError naming what does not conform."""
    if not isinstance(body, dict) or body.get("resourceType") != "Subscription":
        raise InputError("body: expected a FHIR Subscription")
    if body.get("criteria") != TOPIC:
        raise InputError(f"Subscription.criteria: this server offers one topic, {TOPIC}")
    channel = body.get("channel") or {}
    if channel.get("type") != "rest-hook":
        raise InputError("Subscription.channel.type: PAS servers support rest-hook only")
    endpoint = channel.get("endpoint") or ""
    if not re.match(r"^https?://[^\s/]+", endpoint):
        raise InputError("Subscription.channel.endpoint: an http(s) address is required")
    content = [
        e.get("valueCode") for e in (channel.get("_payload") or {}).get("extension", []) if e.get("url") == CONTENT
    ]
    if content != ["full-resource"]:
        raise InputError("Subscription.channel.payload: PAS notifications carry content 'full-resource'")
    filters = [
        e.get("valueString") or "" for e in (body.get("_criteria") or {}).get("extension", []) if e.get("url") == FILTER
    ]
    senders = {s.strip() for f in filters if (m := _ORG_FILTER.match(f)) for s in m.group(1).split(",") if s.strip()}
    if not senders:
        raise InputError(
            "Subscription.criteria: a filter 'orgIdentifier=<sending system identifier>' is required (PAS spec-58)"
        )
    headers = tuple(h for h in channel.get("header") or [] if isinstance(h, str))
    return Subscription(id=id, endpoint=endpoint, senders=frozenset(senders), headers=headers)


def sender_of(claim: dict) -> str | None:
    """The sending system of a Claim (its transmission identifiers' interchangeSenderID, the ISA06)."""
    for ext in claim.get("extension") or []:
        if ext.get("url") == TRANSMISSION:
            for sub in ext.get("extension") or []:
                if sub.get("url") == "interchangeSenderID" and sub.get("valueString"):
                    return sub["valueString"]
    return None


def notification(subscription: Subscription, response: dict, *, event: int, base: str, at: str) -> dict:
    """An event notification: a history Bundle with the subscription status first, then the full PAS
    response Bundle (PAS spec-61)."""
    focus = f"urn:uuid:{uuid.uuid4()}"
    status = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "subscription", "valueReference": {"reference": f"{base}/Subscription/{subscription.id}"}},
            {"name": "topic", "valueCanonical": TOPIC},
            {"name": "status", "valueCode": "active"},
            {"name": "type", "valueCode": "event-notification"},
            {"name": "events-since-subscription-start", "valueString": str(event)},
            {
                "name": "notification-event",
                "part": [
                    {"name": "event-number", "valueString": str(event)},
                    {"name": "timestamp", "valueInstant": at},
                    {"name": "focus", "valueReference": {"reference": focus}},
                ],
            },
        ],
    }
    return {
        "resourceType": "Bundle",
        "type": "history",
        "timestamp": at,
        "entry": [
            {
                "fullUrl": f"{base}/Subscription/{subscription.id}/$status",
                "resource": status,
                "request": {"method": "GET", "url": f"{base}/Subscription/{subscription.id}/$status"},
                "response": {"status": "200"},
            },
            {
                "fullUrl": focus,
                "resource": response,
                "request": {"method": "GET", "url": focus},
                "response": {"status": "200"},
            },
        ],
    }
