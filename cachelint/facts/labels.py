"""Source labels of the value flow (see ``facts.flow``) and the names rules and queries test them
by: apart from the collector, so that reading facts never imports libcst."""

from __future__ import annotations

# Calls whose result is bounded or digested: they drop raw input labels (but not the user's).
SANITIZERS = frozenset(
    {
        "md5",
        "sha1",
        "sha224",
        "sha256",
        "sha384",
        "sha512",
        "sha3_256",
        "sha3_512",
        "blake2b",
        "blake2s",
        "make_template_fragment_key",
        "slugify",
        "int",
        "float",
        "len",
        "bool",
        # Parsed into a typed value (a date, a UUID): a bounded format, not the raw text.
        "strptime",
        "fromisoformat",
        "parse_date",
        "parse_datetime",
        "parse_time",
        "UUID",
    }
)
VISITOR_LABELS = frozenset(
    {"user", "user_id", "auth_state", "session", "session_key", "csrf_token", "messages"}
)
# Labels whose value tells visitors apart (what a per-user key needs).
IDENTIFYING = frozenset({"user", "user_id", "session", "session_key"})


# Wrappers of a label resolved later (``call:N``, ``param:NAME``) that a sanitizer was applied
# to: ``sane:`` drops the raw input and text it resolves to, ``quoted:`` only the text.
SANE = "sane:"
QUOTED = "quoted:"
_DEFERRED = ("call:", "param:", "param_id:", SANE, QUOTED)


def unwrap(label: str) -> str:
    """``sane:call:3`` -> ``call:3``: the label a sanitizer wrapper stands for."""
    while label.startswith((SANE, QUOTED)):
        label = label.partition(":")[2]
    return label


def is_input(label: str) -> bool:
    return label.startswith("input:")


def is_text(label: str) -> bool:
    return label.startswith("text:")


def kind_of(label: str) -> str:
    """``user@3`` -> ``user``: the kind of a source label, without where it was read."""
    return label.partition("@")[0]
