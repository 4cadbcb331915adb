"""The MCP server over streamable HTTP (`/mcp`, the SDK's default path), secured per DESIGN.md §8:
it binds loopback unless remote binding is asked for explicitly, every request must carry
`Authorization: Bearer <token>` (401 otherwise), and a request whose `Origin` is not a loopback
origin gets 403 (DNS-rebinding protection; requests without `Origin`, i.e. non-browser clients, pass).
A client (remote address) over its request rate or its cap on requests in flight gets 429 with
`Retry-After` and a JSON-RPC error saying which limit, before anything else runs (limits.py).

`secured_app` is the testable ASGI app; `serve_http` runs it with uvicorn."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import sys
import math
from collections.abc import Iterable
from urllib.parse import urlsplit

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from swarm_lsp.server.mcp.limits import ClientLimiter, RateLimit

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
LOOPBACK_HOST_HEADERS = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
LOOPBACK_ORIGIN_PATTERNS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*",
                            "http://127.0.0.1", "http://localhost", "http://[::1]"]


def parse_host_port(value: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:PORT`) -> (host, port); ValueError with a readable message."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT (e.g. 127.0.0.1:8765), got {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IP addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_origin(origin: str) -> bool:
    """True for `http://127.0.0.1[:port]`, `http://localhost[:port]`, `http://[::1][:port]`."""
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return (parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_NAMES
            and not parts.username and not parts.password
            and parts.path in ("", "/") and not parts.query and not parts.fragment)


TOO_MANY_REQUESTS = -32000  # JSON-RPC's implementation-defined server error range


class BearerOriginMiddleware:
    """Pure ASGI middleware (streaming-safe): Origin check (403), the client's limits (429), then
    the bearer token check (401; refused guesses count against the limit too). Lifespan events pass
    through so the session manager of the wrapped app starts and stops."""

    def __init__(self, app: ASGIApp, token: str, allowed_origins: Iterable[str] = (),
                 limit: RateLimit | None = None) -> None:
        if not token:
            raise ValueError("an empty bearer token would let anyone in")
        self.app = app
        self._token = token.encode()
        self._extra_origins = frozenset(allowed_origins)
        self.limit = limit if limit is not None else RateLimit()
        self.limiter = ClientLimiter(self.limit)

    def origin_allowed(self, origin: str) -> bool:
        return origin in self._extra_origins or is_loopback_origin(origin)

    def token_valid(self, authorization: str | None) -> bool:
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credentials.strip().encode(), self._token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None and not self.origin_allowed(origin):
            log.warning("MCP HTTP: refused request with foreign Origin %r", origin)
            await _deny(scope, send, 403, {"error": "forbidden",
                                           "error_description": f"Origin {origin!r} is not allowed"}, {})
            return
        client = scope.get("client")
        key = str(client[0]) if client else "unknown"
        in_flight = scope.get("method") == "POST"  # a tool call's POST stays open until its result
        refused = self.limiter.acquire(key, counts_in_flight=in_flight)
        if refused is not None:
            await self._too_many(scope, send, *refused)
            return
        try:
            authorization = headers.get("authorization")
            if not self.token_valid(authorization):
                challenge = "Bearer" if authorization is None else 'Bearer error="invalid_token"'
                await _deny(scope, send, 401, {
                    "error": "unauthorized",
                    "error_description": "missing or invalid bearer token; `swarm-lsp mcp token` prints it",
                }, {"www-authenticate": challenge})
                return
            await self.app(scope, receive, send)
        finally:
            if in_flight:
                self.limiter.release(key)

    async def _too_many(self, scope: Scope, send: Send, why: str, wait_s: float) -> None:
        retry_after = max(1, math.ceil(wait_s))
        if why == "rate":
            description = (f"rate limit exceeded ({self.limit.rate:g} requests/s, burst {self.limit.burst}, "
                           f"per client); retry after {retry_after} s")
        else:
            description = (f"too many requests in flight from this client (at most {self.limit.max_concurrent}); "
                           "wait for a call to finish")
        log.warning("MCP HTTP: 429 for %s: %s", scope.get("client"), description)
        # A JSON-RPC error body: MCP clients show its message for the refused call instead of a bare status.
        await _deny(scope, send, 429, {"jsonrpc": "2.0", "id": None, "error": {
            "code": TOO_MANY_REQUESTS, "message": description,
            "data": {"reason": "too_many_requests", "retry_after_s": retry_after}}}, {"retry-after": str(retry_after)})


async def _deny(scope: Scope, send: Send, status: int, body: dict, headers: dict[str, str]) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def secured_app(server: MCPServer, token: str, allowed_origins: Iterable[str] = (), *,
                host: str = "127.0.0.1", limit: RateLimit | None = None) -> ASGIApp:
    """`server.streamable_http_app()` behind the bearer-token, Origin and per-client limit checks.
    `allowed_origins` are extra exact origins accepted besides the loopback ones. `host` is the bind
    host: on loopback the SDK's own Host-header check stays on (Host must name a loopback address).
    `limit`: the per-client limits (default: `RateLimit()`, 20/s, burst 40, 8 in flight)."""
    allowed_origins = list(allowed_origins)
    if is_loopback_host(host):
        security = TransportSecuritySettings(enable_dns_rebinding_protection=True,
                                             allowed_hosts=LOOPBACK_HOST_HEADERS,
                                             allowed_origins=LOOPBACK_ORIGIN_PATTERNS + allowed_origins)
    else:  # remote clients use names we cannot enumerate; the token and our Origin check still apply
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    inner = server.streamable_http_app(streamable_http_path=MCP_PATH, transport_security=security, host=host)
    return BearerOriginMiddleware(inner, token, allowed_origins, limit)


def serve_http(server: MCPServer, host: str, port: int, token: str, *,
               allowed_origins: Iterable[str] = (), limit: RateLimit | None = None) -> None:
    """Serve `server` at http://HOST:PORT/mcp until interrupted. The caller decides whether a
    non-loopback `host` is acceptable (`swarm-lsp mcp` requires --allow-remote)."""
    import uvicorn

    app = secured_app(server, token, allowed_origins, host=host, limit=limit)
    shown = f"[{host}]" if ":" in host else host
    print(f"swarm-lsp: MCP server at http://{shown}:{port}{MCP_PATH} (bearer token: `swarm-lsp mcp token`; "
          f"rate limit: {(limit or RateLimit()).describe()})", file=sys.stderr)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                  timeout_graceful_shutdown=5)).run()
