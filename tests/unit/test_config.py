from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from swarm_lsp.server.config import Config, ConfigError, load_config, parse_config_dict


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path):
    config = load_config(tmp_path, env={})
    assert config == Config()
    assert config.to_dict() == {
        "tiers": ["llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"], "candidates": 3,
        "reviewers": 0, "reviewer_tiers": [], "escalation": "on-failure",
        "cloud_budget_action": 50_000, "cloud_budget_day": 500_000, "max_queued_jobs": 8, "max_tokens": 512,
        "temperature": 0.2, "repeat_penalty": 1.1, "n_ctx": 4096, "threads": None, "model_host": "shared",
        "doc_style": "auto", "doc_examples": "verified", "doc_reviewers": "off", "coverage_goal": 1.0, "test_timeout": 10.0, "test_memory_mb": 1024, "mutants": 30,
        "differential_inputs": 500, "differential_seconds": 30.0,
        "audit_on_save": False, "audit_skip": [], "audit_exclude": [],
        "ledger_path": None, "memory": True, "memory_embedder": "wordllama", "memory_url": None, "context_tokens": 0, "routing": "adaptive", "models_dir": None, "log_level": "warning",
        "seed": 0, "actions": {},
    }


def test_default_tiers_end_with_the_cloud_only_when_a_key_is_set(tmp_path):
    assert load_config(tmp_path, env={}).tiers[-1] == "llamacpp:qwen2.5-coder-1.5b"
    with_key = load_config(tmp_path, env={"ANTHROPIC_API_KEY": "sk-ant-test"})
    assert with_key.tiers == (
        "llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b", "anthropic:claude-sonnet-4-6",
    )
    explicit = load_config(tmp_path, env={"ANTHROPIC_API_KEY": "k", "SWARM_LSP_TIERS": "llamacpp:qwen2.5-coder-0.5b"})
    assert explicit.tiers == ("llamacpp:qwen2.5-coder-0.5b",)


def test_quorum_and_escalation_settings(tmp_path):
    write(tmp_path / "swarm-lsp.toml", 'reviewers = 4\nescalation = "cloud-only"\nreviewer-tiers = ["llamacpp:qwen2.5-coder-1.5b"]\n')
    config = load_config(tmp_path, env={"SWARM_LSP_CLOUD_BUDGET_DAY": "1000"})
    assert (config.reviewers, config.escalation, config.cloud_budget_day) == (4, "cloud-only", 1000)
    assert config.reviewer_tiers == ("llamacpp:qwen2.5-coder-1.5b",)
    with pytest.raises(ConfigError, match="escalation = \"sometimes\" in command line: expected one of never, on-failure, cloud-only"):
        load_config(tmp_path, env={}, overrides={"escalation": "sometimes"})
    with pytest.raises(ConfigError, match="reviewers = 40 in command line: expected an integer from 0 to 31"):
        load_config(tmp_path, env={}, overrides={"reviewers": 40})


def test_precedence_across_all_sources(tmp_path):
    write(tmp_path / "pyproject.toml", """
[project]
name = "demo"
[tool.swarm-lsp]
candidates = 2
max_tokens = 300
temperature = 0.5
doc_style = "numpy"
seed = 7
""")
    write(tmp_path / "swarm-lsp.toml", "candidates = 4\nmax-tokens = 400\ntemperature = 0.7\n")
    env = {"SWARM_LSP_CANDIDATES": "5", "SWARM_LSP_MAX_TOKENS": "600", "OTHER": "x"}
    config = load_config(tmp_path, env=env, overrides={"candidates": 6, "seed": None})

    assert config.candidates == 6  # command line
    assert config.max_tokens == 600  # environment
    assert config.temperature == 0.7  # swarm-lsp.toml
    assert config.doc_style == "numpy" and config.seed == 7  # pyproject; None override ignored
    assert config.n_ctx == 4096  # default

    merged = config.merged({"candidates": 1, "log-level": "DEBUG"}, "initializationOptions")
    assert (merged.candidates, merged.log_level, merged.max_tokens) == (1, "debug", 600)


def test_pyproject_without_our_table_is_ignored(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.ruff]\nline-length = 100\n')
    assert load_config(tmp_path, env={}) == Config()


def test_kebab_case_keys(tmp_path):
    write(tmp_path / "swarm-lsp.toml",
          'max-tokens = 1024\nrepeat-penalty = 1.3\nn-ctx = 8192\ndoc-style = "google"\n')
    config = load_config(tmp_path, env={})
    assert (config.max_tokens, config.repeat_penalty, config.n_ctx, config.doc_style) == (
        1024, 1.3, 8192, "google")


def test_the_same_key_twice_is_an_error():
    with pytest.raises(ConfigError, match="max_tokens is given twice in x.toml"):
        parse_config_dict({"max_tokens": 100, "max-tokens": 200}, "x.toml")


def test_env_parsing(tmp_path):
    env = {
        "SWARM_LSP_TIERS": " llamacpp:qwen2.5-coder-0.5b, ollama:qwen2.5-coder:7b ,anthropic:claude-sonnet-4-5,",
        "SWARM_LSP_TEMPERATURE": "0",
        "SWARM_LSP_THREADS": "2",
        "SWARM_LSP_LOG_LEVEL": "INFO",
        "SWARM_LSP_SEED": "",  # empty means unset
    }
    config = load_config(tmp_path, env=env)
    assert config.tiers == ("llamacpp:qwen2.5-coder-0.5b", "ollama:qwen2.5-coder:7b",
                            "anthropic:claude-sonnet-4-5")
    assert (config.temperature, config.threads, config.log_level, config.seed) == (0.0, 2, "info", 0)


def test_threads_auto_resets_a_file_setting(tmp_path):
    write(tmp_path / "swarm-lsp.toml", "threads = 4\n")
    assert load_config(tmp_path, env={}).threads == 4
    assert load_config(tmp_path, env={"SWARM_LSP_THREADS": "auto"}).threads is None


def test_relative_paths_in_files_are_relative_to_the_workspace(tmp_path):
    write(tmp_path / "swarm-lsp.toml", 'ledger_path = ".swarm/ledger.sqlite3"\nmodels-dir = "/abs/m"\n')
    config = load_config(tmp_path, env={})
    assert config.ledger_path == str(tmp_path / ".swarm" / "ledger.sqlite3")
    assert config.models_dir == "/abs/m"


@pytest.mark.parametrize("text, message", [
    ("candidates = 0", "candidates = 0 in {file}: expected an integer from 1 to 16"),
    ("candidates = 17", "candidates = 17 in {file}: expected an integer from 1 to 16"),
    ('candidates = "many"', 'candidates = "many" in {file}: expected an integer from 1 to 16'),
    ("candidates = true", "candidates = true in {file}: expected an integer from 1 to 16"),
    ("candidates = 2.5", "candidates = 2.5 in {file}: expected an integer from 1 to 16"),
    ("max-tokens = 8", "max-tokens = 8 in {file}: expected an integer from 16 to 8192"),
    ("temperature = 2.5", "temperature = 2.5 in {file}: expected a number from 0 to 2"),
    ("temperature = nan", "temperature = nan in {file}: expected a number from 0 to 2"),
    ("repeat_penalty = 0.9", "repeat_penalty = 0.9 in {file}: expected a number from 1 to 2"),
    ("n_ctx = 100", "n_ctx = 100 in {file}: expected an integer from 512 to 32768"),
    ("threads = 0", 'threads = 0 in {file}: expected "auto" (all cores) or an integer from 1 to 256'),
    ('doc_style = "sphinx"', 'doc_style = "sphinx" in {file}: expected one of auto, google, numpy, rest'),
    ('log_level = "trace"', 'log_level = "trace" in {file}: expected one of debug, info, warning, error'),
    ("seed = -1", "seed = -1 in {file}: expected an integer from 0 to 4294967295"),
    ('ledger_path = ""', 'ledger_path = "" in {file}: expected a non-empty path'),
    ("tiers = []", "tiers = [] in {file}: expected at least one backend name"),
    ("tiers = 3", "tiers = 3 in {file}: expected a list of backend names"),
    ('tiers = ["gpt4"]', 'tiers = ["gpt4"] in {file}: "gpt4" is not a backend name; '
                         'expected "kind:model" with kind one of llamacpp, ollama, openai, anthropic'),
    ('tiers = ["cohere:command-r"]', '"cohere:command-r" is not a backend name'),
    ('tiers = ["openai:m?base_url=ftp://gpu/v1"]', "base URL 'ftp://gpu/v1': expected http:// or https://"),
    ('tiers = ["openai:m?base_url=http://gpu/v1&cloud=maybe"]', "cloud='maybe': expected true or false"),
    ('tiers = ["ollama:"]', '"ollama:" is not a backend name'),
    ('tiers = ["llamacpp:qwen-7b"]',
     '"llamacpp:qwen-7b" is not an embedded model; expected llamacpp: followed by one of '
     'qwen2.5-coder-0.5b, qwen2.5-coder-1.5b'),
])
def test_invalid_values_name_key_source_value_and_expectation(tmp_path, text, message):
    file = write(tmp_path / "swarm-lsp.toml", text + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    assert message.format(file=file) in str(info.value)
    assert info.value.source == str(file)


def test_invalid_env_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={"SWARM_LSP_CANDIDATES": "lots"})
    assert str(info.value) == ('candidates = "lots" in environment variable SWARM_LSP_CANDIDATES: '
                               "expected an integer from 1 to 16")


def test_invalid_command_line_value(tmp_path):
    with pytest.raises(ConfigError, match=r'doc_style = "x" in command line: expected one of'):
        load_config(tmp_path, env={}, overrides={"doc_style": "x"})


def test_invalid_pyproject_value_names_the_table(tmp_path):
    pyproject = write(tmp_path / "pyproject.toml", "[tool.swarm-lsp]\nn_ctx = 1\n")
    with pytest.raises(ConfigError, match=rf"in {pyproject} \[tool.swarm-lsp\]: expected"):
        load_config(tmp_path, env={})


def test_unknown_key_suggests_the_closest_and_lists_all(tmp_path):
    file = write(tmp_path / "swarm-lsp.toml", "candiates = 2\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    message = str(info.value)
    assert f"unknown key 'candiates' in {file}; did you mean 'candidates'?" in message
    assert "Known keys: tiers, candidates, reviewers, reviewer_tiers, escalation" in message


def test_unknown_key_without_a_close_match():
    with pytest.raises(ConfigError, match=r"unknown key 'colour' in command line\. Known keys:"):
        parse_config_dict({"colour": "red"}, "command line")


def test_invalid_toml_names_the_file(tmp_path):
    file = write(tmp_path / "swarm-lsp.toml", "candidates = = 2\n")
    with pytest.raises(ConfigError, match=f"{file}: invalid TOML"):
        load_config(tmp_path, env={})


def test_initialization_options_must_be_a_table():
    with pytest.raises(ConfigError, match="initializationOptions: expected a table"):
        parse_config_dict(["candidates"], "initializationOptions")


def test_direct_construction_is_validated_too():
    with pytest.raises(ConfigError, match="candidates = 0 in Config arguments"):
        Config(candidates=0)
    with pytest.raises(ConfigError):
        dataclasses.replace(Config(), tiers=("nope",))
    assert Config(tiers=["ollama:llama3"]).tiers == ("ollama:llama3",)


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().candidates = 5  # type: ignore[misc]


def test_tier_options_are_validated(tmp_path):
    config = load_config(tmp_path, env={}, overrides={"tiers": ["llamacpp:qwen2.5-coder-0.5b?candidates=1&max_tokens=64"]})
    assert config.tiers == ("llamacpp:qwen2.5-coder-0.5b?candidates=1&max_tokens=64",)
    with pytest.raises(ConfigError, match="tier option 'retries'"):
        load_config(tmp_path, env={}, overrides={"tiers": ["llamacpp:qwen2.5-coder-0.5b?retries=1"]})


def test_audit_skip_and_exclude_take_lists_or_comma_separated_text_and_check_rule_names(tmp_path):
    (tmp_path / "swarm-lsp.toml").write_text('audit_skip = ["b101", "cwe-703"]\naudit_exclude = ["tests/**"]\n')
    config = load_config(tmp_path, env={"SWARM_LSP_AUDIT_EXCLUDE": "tests/**, bench/"})
    assert config.audit_skip == ("B101", "CWE-703")
    assert config.audit_exclude == ("tests/**", "bench/")
    assert config.action_options().audit_skip == ("B101", "CWE-703")
    with pytest.raises(ConfigError, match="'assert' is not a rule id"):
        load_config(tmp_path, env={"SWARM_LSP_AUDIT_SKIP": "assert"})


def test_per_action_settings_merge_by_key_across_sources_and_a_later_top_level_key_wins(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.swarm-lsp]\ntiers = ["llamacpp:qwen2.5-coder-0.5b"]\n'
        '[tool.swarm-lsp.actions.audit]\ntiers = ["llamacpp:qwen2.5-coder-1.5b"]\ncandidates = 1\n')
    (tmp_path / "swarm-lsp.toml").write_text("[actions.audit]\nreviewers = 2\n")
    config = load_config(tmp_path, env={})
    audit = config.for_action("audit")
    assert (audit.tiers, audit.candidates, audit.reviewers) == (("llamacpp:qwen2.5-coder-1.5b",), 1, 2)
    assert config.for_action("tests").tiers == ("llamacpp:qwen2.5-coder-0.5b",)
    flagged = load_config(tmp_path, env={}, overrides={"tiers": ["llamacpp:qwen2.5-coder-0.5b"]})
    assert flagged.for_action("audit").tiers == ("llamacpp:qwen2.5-coder-0.5b",)  # the command line wins
    assert flagged.for_action("audit").candidates == 1
    from_env = load_config(tmp_path, env={"SWARM_LSP_ACTIONS": '{"document": {"candidates": 4}}'})
    assert from_env.for_action("document").candidates == 4 and from_env.for_action("audit").reviewers == 2
    editor = config.merged({"actions": {"audit": {"candidates": 3}}}, "initializationOptions")
    assert (editor.for_action("audit").candidates, editor.for_action("audit").reviewers) == (3, 2)


@pytest.mark.parametrize("actions, message", [
    ({"lint": {}}, "unknown action 'lint'; expected one of document, tests, refactor, audit"),
    ({"audit": {"escalation": "never"}}, "actions.audit.escalation: an action may set tiers, candidates, reviewers"),
    ({"audit": {"candidates": 0}}, "actions.audit.candidates = 0: expected an integer from 1 to 16"),
    ({"audit": {"tiers": ["gpt4"]}}, '"gpt4" is not a backend name'),
    ({"audit": "1.5b"}, "actions.audit: expected a table"),
])
def test_bad_per_action_settings_say_which_action_and_key(actions, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config_dict({"actions": actions}, "test")


def test_memory_settings_are_checked(tmp_path):
    config = load_config(tmp_path, env={"SWARM_LSP_MEMORY_EMBEDDER": "llamacpp:qwen2.5-coder-0.5b",
                                        "SWARM_LSP_MEMORY_URL": "http://chroma.internal:8000",
                                        "SWARM_LSP_MEMORY": "false"})
    assert (config.memory, config.memory_embedder, config.memory_url) == (
        False, "llamacpp:qwen2.5-coder-0.5b", "http://chroma.internal:8000")
    with pytest.raises(ConfigError, match="wordllama"):
        load_config(tmp_path, env={"SWARM_LSP_MEMORY_EMBEDDER": "llamacpp:qwen-70b"})
    with pytest.raises(ConfigError, match="http://chroma.internal:8000"):
        load_config(tmp_path, env={"SWARM_LSP_MEMORY_URL": "chroma.internal"})
