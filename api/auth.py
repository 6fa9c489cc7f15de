"""Who is calling: signed tokens (HMAC-SHA256 JWTs) carrying a role and a scope.

| role         | scope        | scope_id         | subject         |
|--------------|--------------|------------------|-----------------|
| resident     | household    | household id     | member id       |
| volunteer    | community    | community id     | staff id        |
| liaison      | community    | community id     | staff id        |
| info_officer | community    | community id     | staff id        |
| supplier     | supplier     | supplier id      | staff id        |
| admin        | sub_district | sub-district id  | staff id        |
| reviewer     | site         | site id          | staff id        |
| gate_officer | site         | site id          | staff id        |
| supervisor   | site         | site id          | staff id        |
| supply_point | supply_point | supply point id  | staff id        |

A site (门岗) is a community's gate, or a campus run the same way (api/sites.py).

A resident's token names one member (one phone of the flat) and also carries
their community and flat, so a request knows where to read the household
without a lookup. A token only says who the caller was when it was issued:
whether that phone is still a member is checked against the household record
(api/households.py), and whether an information officer is still the active
one against the community (api/roster.py). The signing secret lives in SSM
Parameter Store (SecureString); locally `make dev` generates one.
"""
import functools
import hashlib
import hmac
from datetime import timedelta
from typing import NamedTuple

import jwt

from api import aws, clock, config
from api.errors import Forbidden, Unauthorized

SCOPE_OF_ROLE = {
    "resident": "household",
    "volunteer": "community",
    "liaison": "community",
    "info_officer": "community",
    "supplier": "supplier",
    "admin": "sub_district",
    "reviewer": "site",
    "gate_officer": "site",
    "supervisor": "site",
    "supply_point": "supply_point",
}
SITE_ROLES = ("reviewer", "gate_officer", "supervisor")
STAFF_ROLES = frozenset(SCOPE_OF_ROLE) - {"resident"}
_TTL = {"resident": timedelta(days=90), "staff": timedelta(days=30)}
_ALGORITHM = "HS256"


class Principal(NamedTuple):
    """The caller, as proven by their token."""

    role: str
    scope_id: str
    subject: str
    community_id: str = ""
    flat_key: str = ""

    @property
    def scope(self) -> str:
        return SCOPE_OF_ROLE[self.role]

    @property
    def household_id(self) -> str:
        """A resident's household (their token's scope)."""
        return self.scope_id


@functools.cache
def _secret() -> str:
    response = aws.client("ssm").get_parameter(Name=config.TOKEN_SECRET_PARAM, WithDecryption=True)
    return response["Parameter"]["Value"]


def sign(message: str) -> str:
    """An HMAC-SHA256 of `message` under the token secret: for links that must work without a token."""
    return hmac.new(_secret().encode(), message.encode(), hashlib.sha256).hexdigest()


def signed(message: str, signature: str) -> bool:
    return hmac.compare_digest(sign(message), signature or "")


def issue(principal: Principal) -> str:
    issued = clock.now()
    ttl = _TTL["resident" if principal.role == "resident" else "staff"]
    claims = {"sub": principal.subject, "role": principal.role, "scope_id": principal.scope_id,
              "iat": issued, "exp": issued + ttl}
    if principal.community_id:
        claims["cid"] = principal.community_id
    if principal.flat_key:
        claims["flat"] = principal.flat_key
    return jwt.encode(claims, _secret(), algorithm=_ALGORITHM)


def _unauthorized() -> Unauthorized:
    return Unauthorized("请先登录或重新扫码加入", "Sign in, or scan the join QR code again")


def from_headers(headers) -> Principal:
    """The caller behind `Authorization: Bearer <token>`, or 401."""
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized()
    try:
        claims = jwt.decode(token.strip(), _secret(), algorithms=[_ALGORITHM],
                            options={"require": ["exp", "sub", "role", "scope_id"]})
    except jwt.PyJWTError as exc:
        raise _unauthorized() from exc
    if claims["role"] not in SCOPE_OF_ROLE:
        raise _unauthorized()
    return Principal(role=claims["role"], scope_id=claims["scope_id"], subject=claims["sub"],
                     community_id=claims.get("cid", ""), flat_key=claims.get("flat", ""))


def require(headers, *roles: str) -> Principal:
    """The caller, who must hold one of `roles`; 401 without a token, 403 with the wrong role."""
    principal = from_headers(headers)
    if principal.role not in roles:
        raise Forbidden("您的账号无权进行此操作", "Your account may not do this",
                        code="wrong_role")
    return principal
