"""Where an OpenAI-compatible tier sends its requests, and whether that counts as the cloud.

A tier names its servers in the backend name, `openai:MODEL?base_url=URL[,URL...]&cloud=true|false`,
or leaves them to `OPENAI_BASE_URL` (comma-separated). A server on loopback, a private or
link-local address, or a `localhost`/`.local` name counts as local (no redaction, local tokens in
the ledger); any other as cloud, unless the tier says `cloud=`. No SDK is imported here: the
tier planner and the ledger ask this for every call.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Mapping
from urllib.parse import urlsplit

BACKEND_OPTIONS = ("base_url", "cloud")  # options of the backend itself, kept in its name
BASE_URL_ENV = "OPENAI_BASE_URL"


def split_options(name: str) -> tuple[str, dict[str, str]]:
    """`openai:m?base_url=u&cloud=false` -> (`openai:m`, {"base_url": "u", "cloud": "false"})."""
    bare, _, query = name.partition("?")
    options = {}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        options[key] = value
    return bare, options


def base_urls(options: Mapping[str, str], env: Mapping[str, str] = os.environ) -> list[str]:
    """The tier's base URLs (`base_url=`), else OPENAI_BASE_URL's; checked, without duplicates."""
    raw = options.get("base_url") or env.get(BASE_URL_ENV, "")
    urls = [url.strip().rstrip("/") for url in raw.split(",") if url.strip()]
    for url in urls:
        check_url(url)
    return list(dict.fromkeys(urls))


def check_url(url: str) -> None:
    """ValueError unless `url` is an http(s) URL with a host and no credentials in it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base URL {url!r}: expected http:// or https:// and a host, e.g. http://127.0.0.1:8000/v1")
    if parts.username or parts.password:
        raise ValueError(f"base URL {url!r}: credentials do not go in the URL; set OPENAI_API_KEY")


def parse_cloud(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"cloud={raw!r}: expected true or false")


def is_local_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith((".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a public name: where it resolves is not ours to trust
    return address.is_loopback or address.is_private or address.is_link_local


def endpoint_is_cloud(name: str, env: Mapping[str, str] = os.environ) -> bool:
    """Whether the OpenAI-compatible tier `name` counts as the cloud: `cloud=` when set, else
    whether any of its servers is outside loopback and private networks. With no server known
    (a configuration error reported elsewhere) it counts as cloud: the careful side."""
    _, options = split_options(name)
    try:
        configured = parse_cloud(options.get("cloud"))
        if configured is not None:
            return configured
        urls = base_urls(options, env)
    except ValueError:
        return True
    return not urls or any(not is_local_host(urlsplit(url).hostname or "") for url in urls)
