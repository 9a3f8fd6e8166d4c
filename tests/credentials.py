"""Credentials for tests that call the service as its clients do: an API key for the JSON API and PAS,
and CDS Hooks calls signed, one JWT per request, with a P-384 key registered for the client."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from indicated.service import clients, db

ISSUER = "https://ehr.example.org"


class Signer:
    """An EHR's signing key and the JWK Set it registers with the service."""

    def __init__(self, kid: str = "ehr-1", issuer: str = ISSUER) -> None:
        self.private = ec.generate_private_key(ec.SECP384R1())
        self.kid, self.issuer = kid, issuer
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        self.jwks = json.dumps({"keys": [{**public, "kid": kid, "alg": "ES384", "use": "sig"}]})

    def token(self, audience: str, *, lifetime: int = 240, **changes) -> str:
        moment = int(time.time())
        claims = {"iss": self.issuer, "sub": "ehr-client", "aud": audience, "iat": moment, "exp": moment + lifetime}
        claims |= {"jti": uuid.uuid4().hex, **changes}
        headers = {"kid": self.kid, "typ": "JWT"}
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, self.private, "ES384", headers)


class ClientAuth(httpx.Auth):
    """What a registered client sends: a fresh JWT on CDS Hooks calls, its API key elsewhere; a request
    that sets its own Authorization header (a reviewer's token) keeps it."""

    def __init__(self, key: str, signer: Signer) -> None:
        self.key, self.signer = key, signer

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        if "authorization" not in request.headers:
            if request.url.path.startswith("/cds-services/"):
                audience = str(request.url.copy_with(query=None))
                request.headers["Authorization"] = f"Bearer {self.signer.token(audience)}"
            else:
                request.headers["Authorization"] = f"Bearer {self.key}"
        yield request


def register(database_url: str, name: str = "ehr", *, issuer: str = ISSUER) -> tuple[str, Signer]:
    """A client with an API key and a CDS Hooks signing key, in the service's database."""
    signer = Signer(issuer=issuer)
    engine = db.engine_for(database_url)
    db.upgrade(engine)
    with db.sessions(engine)() as session:
        _, key = clients.add_client(session, name=name, jwks=signer.jwks, issuer=issuer)
    engine.dispose()
    return key, signer


def sign_in(client, database_url: str, name: str = "ehr") -> tuple[str, Signer]:
    """Make ``client`` (a TestClient) call as a newly registered client by default."""
    key, signer = register(database_url, name, issuer=ISSUER if name == "ehr" else f"https://{name}.example")
    client.auth = ClientAuth(key, signer)
    return key, signer
