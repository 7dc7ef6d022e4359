"""One webhook POST, pinned to the address `check_url` approved.

httpx would resolve the host again when it connects; instead the request URL carries the approved IP and
the name travels where TLS and HTTP need it: the `Host` header, and the `sni_hostname` request extension
(httpcore uses it as the TLS server name, so SNI and certificate verification are for the name, not the
IP). Redirects are not followed: a redirect could point anywhere, so it counts as a failed attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ccm.webhooks.addresses import Target

TIMEOUT_SECONDS = 10.0
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class Attempt:
    """What one POST achieved: a 2xx is success; anything else (or no answer) is retried."""

    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(client: httpx.Client, target: Target, body: bytes, headers: dict[str, str]) -> Attempt:
    """POST `body` to the first of the target's checked addresses that accepts a connection (as a
    resolver-driven client would try them in turn); never raises for a network or HTTP failure."""
    url = httpx.URL(target.url)
    request_headers = {**headers, "Host": url.netloc.decode("ascii"), "Content-Type": "application/json"}
    error: httpx.HTTPError | None = None
    for address in target.addresses:
        try:
            response = client.post(
                url.copy_with(host=address),
                content=body,
                headers=request_headers,
                extensions={"sni_hostname": target.host},
            )
        except httpx.ConnectError as refused:
            error = refused
            continue
        except httpx.HTTPError as failed:
            error = failed
            break
        return _attempt(response)
    return Attempt(None, f"{error.__class__.__name__}: {error}"[:MAX_ERROR_LENGTH])


def _attempt(response: httpx.Response) -> Attempt:
    if 200 <= response.status_code < 300:
        return Attempt(response.status_code, None)
    return Attempt(response.status_code, f"HTTP {response.status_code}: {response.text[:200]}")


def make_client() -> httpx.Client:
    """A client that never follows redirects nor reads proxy settings from the environment."""
    return httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False)
