"""What operations a line performs, by weakness class: the sink calls of each injection class,
and for the classes where the primitive is the weakness, which calls are weak and which strong.
Shared by the mitigation gate (`mitigations`) and the anchoring of swarm findings (`anchors`)."""

from __future__ import annotations

import ast
import re
from typing import Callable

from swarm_lsp.swarm.audit.python_flow import Scope, call_name, is_constant_text, is_true, keyword

# Calls that take a query, filter or markup string: the argument position that matters, and the
# keyword names it may be passed as.
STRING_SINKS = {
    89: ({"execute": 0, "executemany": 0, "executescript": 0, "raw": 0, "text": 0, "read_sql": 0,
          "read_sql_query": 0, "extra": 0}, ("sql", "query", "statement")),
    643: ({"xpath": 0, "XPath": 0, "find": 0, "findall": 0, "findtext": 0, "iterfind": 0, "evaluate": 0}, ("path",)),
    90: ({"search": 1, "paged_search": 1, "search_s": 2, "search_st": 2, "search_ext": 2, "search_ext_s": 2},
         ("search_filter", "filterstr")),
    79: ({"Markup": 0, "mark_safe": 0, "make_response": 0, "Response": 0, "HttpResponse": 0,
          "render_template_string": 0, "write": 0}, ("source", "content", "response")),
}
SHELL_RUNNERS = {"system", "popen", "getoutput", "getstatusoutput", "create_subprocess_shell"}
LIST_RUNNERS = {"run", "call", "check_call", "check_output", "Popen"}
PATH_SINKS = {"open", "send_file", "FileResponse", "read_text", "read_bytes", "write_text", "write_bytes",
              "remove", "unlink", "rmtree", "listdir", "Path"}
REQUEST_SINKS = {"get", "post", "put", "patch", "delete", "head", "request", "urlopen", "Request", "stream"}
REDIRECT_SINKS = {"redirect", "HttpResponseRedirect", "HttpResponsePermanentRedirect", "RedirectResponse"}

UNSAFE_LOADERS = re.compile(r"^(c?[Pp]ickle|marshal|shelve|jsonpickle|dill|cloudpickle|torch)\.|(^|\.)(unsafe_load|full_load)$")
SAFE_LOADERS = re.compile(r"(^|\.)(json\.loads?|safe_load|safe_load_all|literal_eval|tomllib\.loads?)$")
WEAK_HASHES = {"md4", "md5", "sha", "sha1", "sha224", "ripemd160"}
STRONG_HASHES = re.compile(r"^(sha256|sha384|sha512|sha3_\w+|blake2[bs]|scrypt|pbkdf2_hmac|hashpw|hash_password|"
                           r"PasswordHasher|compare_digest)$")
WEAK_CIPHERS = {"ARC4", "ARC2", "DES", "DES3", "TripleDES", "Blowfish", "IDEA", "CAST5", "SEED", "ECB", "MODE_ECB",
                "RC4", "XOR"}
STRONG_CIPHERS = {"AESGCM", "AESCCM", "AESOCB3", "AESSIV", "ChaCha20Poly1305", "Fernet", "GCM", "MODE_GCM",
                  "MODE_EAX", "MODE_SIV", "MODE_CCM", "SecretBox", "Box"}
SECURE_RANDOM = re.compile(r"^(secrets\.\w+|os\.urandom|random\.SystemRandom(\.\w+)?)$")
XML_SAFE_ROOTS = ("defusedxml",)
XML_PARSE_CALLS = {"parse", "fromstring", "XML", "parseString", "make_parser", "iterparse"}
SECRET_SOURCES = re.compile(r"(environ|getenv|get_secret|secret_manager|keyring|config|settings|vault)", re.I)


def weak_hash(scope: Scope, call: ast.Call) -> bool:
    name = call_name(call)
    if name == "new" and call.args and is_constant_text(call.args[0]):
        return str(call.args[0].value).lower().replace("-", "") in WEAK_HASHES
    passed = [*call.args, *(k.value for k in call.keywords)]
    if any(call_name(arg).lower() in WEAK_HASHES for arg in passed if isinstance(arg, (ast.Attribute, ast.Name))):
        return True  # hmac.new(key, msg, hashlib.md5)
    return name.lower() in WEAK_HASHES and keyword(call, "usedforsecurity") is None


def strong_hash(scope: Scope, call: ast.Call) -> bool:
    return bool(STRONG_HASHES.match(call_name(call))) or (call_name(call) == "new" and not weak_hash(scope, call))


def weak_cipher(scope: Scope, call: ast.Call) -> bool:
    return any(isinstance(n, (ast.Attribute, ast.Name)) and call_name(n) in WEAK_CIPHERS for n in ast.walk(call))


def strong_cipher(scope: Scope, call: ast.Call) -> bool:
    return any(isinstance(n, (ast.Attribute, ast.Name)) and call_name(n) in STRONG_CIPHERS for n in ast.walk(call))


def _loader_keyword_is_safe(scope: Scope, call: ast.Call) -> bool:
    loader = keyword(call, "Loader")
    return loader is not None and scope.qualified(loader).endswith(("SafeLoader", "CSafeLoader"))


def unsafe_loader(scope: Scope, call: ast.Call) -> bool:
    name = scope.qualified(call)
    if name.startswith("yaml.") and call_name(call) in ("load", "load_all"):
        return not _loader_keyword_is_safe(scope, call)
    return bool(UNSAFE_LOADERS.search(name))


def safe_loader(scope: Scope, call: ast.Call) -> bool:
    return bool(SAFE_LOADERS.search(scope.qualified(call))) or _loader_keyword_is_safe(scope, call)


def insecure_random(scope: Scope, call: ast.Call) -> bool:
    name = scope.qualified(call)
    return name.startswith("random.") and name != "random.SystemRandom"


def secure_random(scope: Scope, call: ast.Call) -> bool:
    return bool(SECURE_RANDOM.match(scope.qualified(call)))


def _xml_parser_is_safe(scope: Scope, node: ast.expr | None) -> bool:
    node = scope.resolve(node) if node is not None else None
    if not isinstance(node, ast.Call):
        return False
    if scope.qualified(node).startswith(XML_SAFE_ROOTS):
        return True
    resolve = keyword(node, "resolve_entities")
    return call_name(node) == "XMLParser" and isinstance(resolve, ast.Constant) and resolve.value is False


def _from_safe_xml(scope: Scope, call: ast.Call) -> bool:
    """defusedxml.ElementTree.parse(...), or parser.parse(...) on a parser defusedxml made."""
    if scope.qualified(call).startswith(XML_SAFE_ROOTS):
        return True
    receiver = scope.resolve(call.func.value) if isinstance(call.func, ast.Attribute) else None
    return isinstance(receiver, ast.Call) and scope.qualified(receiver).startswith(XML_SAFE_ROOTS)


def xml_unsafe(scope: Scope, call: ast.Call) -> bool:
    if _from_safe_xml(scope, call):
        return False
    if call_name(call) == "XMLParser":
        return not _xml_parser_is_safe(scope, call)
    if call_name(call) == "setFeature":
        return len(call.args) == 2 and is_true(call.args[1])
    if call_name(call) in XML_PARSE_CALLS:
        parser = keyword(call, "parser") or (call.args[1] if len(call.args) > 1 else None)
        return not _xml_parser_is_safe(scope, parser)
    return False


def xml_safe(scope: Scope, call: ast.Call) -> bool:
    if call_name(call) in XML_PARSE_CALLS:
        parser = keyword(call, "parser") or (call.args[1] if len(call.args) > 1 else None)
        return _from_safe_xml(scope, call) or _xml_parser_is_safe(scope, parser)
    return _xml_parser_is_safe(scope, call)


# Text that marks a string as a query, filter, path expression or markup when it is built on a line.
STRING_MARKERS = {
    89: re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b.*\b(FROM|INTO|SET|WHERE)\b", re.I | re.S),
    90: re.compile(r"\(\s*[&|!]?\s*\(?\s*\w+\s*="),
    643: re.compile(r"^\s*/{1,2}[\w*@]|\[@"),
    79: re.compile(r"<\s*/?\s*[a-zA-Z][\w-]*[^<>]*>"),
}
COMMAND_ROOTS = ("subprocess.", "os.", "asyncio.", "commands.", "pty.")
REQUEST_ROOTS = ("requests.", "httpx.", "urllib.request.", "urllib3.", "aiohttp.", "http.client.")
FILE_ACCESS = PATH_SINKS - {"Path"} | {"send_from_directory", "copyfile", "move", "makedirs"}
SECRET_NAMES = re.compile(r"(passw|passwd|secret|token|api_?key|apikey|private_?key|credential)", re.I)


def _marked_string_on_line(scope: Scope, cwe: int) -> bool:
    """A string of the line's statement looks like a query, filter, path expression or markup of
    `cwe`. Remembered per statement: every line of a class body shares the class statement."""
    statement = scope.statement()
    if statement is None:
        return False
    key = (id(statement), cwe)
    marks = scope.index.string_marks
    if key not in marks:
        marks[key] = any(STRING_MARKERS[cwe].search(n.value) for n in ast.walk(statement)
                         if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return marks[key]


def _string_operation(cwe: int) -> Callable[[Scope], bool]:
    def holds(scope: Scope) -> bool:
        calls = {call_name(c) for c in scope.calls_on_line()}
        return bool(calls & set(STRING_SINKS[cwe][0])) or _marked_string_on_line(scope, cwe)
    return holds


def _calls(predicate: Callable[[Scope, ast.Call], bool]) -> Callable[[Scope], bool]:
    def holds(scope: Scope) -> bool:
        return any(predicate(scope, call) for call in scope.calls_on_line())
    return holds


def writes_session(scope: Scope) -> bool:
    """The line's statement stores a value in the session (`session[...] = value`)."""
    statement = scope.statement()
    return isinstance(statement, ast.Assign) and any(
        isinstance(t, ast.Subscript) and "session" in ast.unparse(t.value) for t in statement.targets)


def _secret_binding(scope: Scope) -> bool:
    statement = scope.statement()
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return any(SECRET_NAMES.search(ast.unparse(t)) for t in targets)
    return any(SECRET_NAMES.search(k.arg or "") for c in scope.calls_on_line() for k in c.keywords)


OPERATIONS = {
    89: _string_operation(89), 90: _string_operation(90), 643: _string_operation(643), 79: _string_operation(79),
    78: _calls(lambda s, c: s.qualified(c).startswith(COMMAND_ROOTS) and call_name(c) in (
        LIST_RUNNERS | SHELL_RUNNERS | {"create_subprocess_exec", "spawnl", "spawnv", "execv", "execl"})),
    22: _calls(lambda s, c: call_name(c) in FILE_ACCESS),
    918: _calls(lambda s, c: s.qualified(c).startswith(REQUEST_ROOTS) or call_name(c) in {"urlopen", "urlretrieve"}),
    601: _calls(lambda s, c: call_name(c) in REDIRECT_SINKS),
    501: writes_session,
    502: _calls(lambda s, c: unsafe_loader(s, c) or safe_loader(s, c)),
    328: _calls(lambda s, c: s.qualified(c).startswith(("hashlib.", "hmac.")) or weak_hash(s, c) or strong_hash(s, c)),
    327: _calls(lambda s, c: weak_cipher(s, c) or strong_cipher(s, c)),
    338: _calls(lambda s, c: s.qualified(c).startswith(("random.", "secrets.")) or secure_random(s, c)),
    798: _secret_binding,
    611: _calls(lambda s, c: s.qualified(c).startswith(("xml.", "lxml.", "defusedxml.")) or xml_unsafe(s, c)
                or xml_safe(s, c)),
}


def operation_classes(scope: Scope) -> list[int]:
    """The audited weakness classes whose kind of operation the scope's line performs."""
    return [cwe for cwe, holds in OPERATIONS.items() if holds(scope)]
