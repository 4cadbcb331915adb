"""Whether an OpenAI-compatible tier counts as the cloud (redaction, the ledger's cloud tokens,
escalation order): by where its servers are, unless the tier says `cloud=`."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.backends.endpoints import endpoint_is_cloud
from swarm_lsp.swarm.tiers import is_cloud, parse_tier


@pytest.mark.parametrize("url, cloud", [
    ("http://127.0.0.1:8000/v1", False), ("http://localhost:8080/v1", False), ("http://[::1]:8000/v1", False),
    ("http://10.1.2.3:8000/v1", False), ("http://192.168.1.20/v1", False), ("http://gpu-box.local:8000/v1", False),
    ("https://api.together.xyz/v1", True), ("http://8.8.8.8:8000/v1", True), ("https://gpu.example.com/v1", True),
])
def test_a_server_counts_as_local_on_loopback_and_private_networks(url, cloud):
    assert endpoint_is_cloud(f"openai:m?base_url={url}", env={}) is cloud
    assert endpoint_is_cloud("openai:m", env={"OPENAI_BASE_URL": url}) is cloud


def test_one_public_server_among_several_makes_the_tier_cloud_and_cloud_overrides():
    assert endpoint_is_cloud("openai:m?base_url=http://10.0.0.1/v1,https://api.example.com/v1", env={})
    assert not endpoint_is_cloud("openai:m?base_url=https://vllm.corp.example.com/v1&cloud=false", env={})
    assert endpoint_is_cloud("openai:m?base_url=http://127.0.0.1:8000/v1&cloud=true", env={})
    assert endpoint_is_cloud("openai:m", env={})  # no server known: the careful side


def test_the_backend_options_stay_in_the_name_and_tier_options_do_not():
    spec = parse_tier("openai:m?base_url=http://127.0.0.1:8000/v1&candidates=2&cloud=false")
    assert spec.name == "openai:m?base_url=http://127.0.0.1:8000/v1&cloud=false" and spec.candidates == 2
    assert not is_cloud(spec.name)
    with pytest.raises(ValueError, match="base_url"):
        parse_tier("ollama:m?base_url=http://127.0.0.1:8000/v1")  # only the OpenAI-compatible tier has servers
