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
    }
)
VISITOR_LABELS = frozenset(
    {"user", "user_id", "auth_state", "session", "session_key", "csrf_token", "messages"}
)
# Labels whose value tells visitors apart (what a per-user key needs).
IDENTIFYING = frozenset({"user", "user_id", "session", "session_key"})


def is_input(label: str) -> bool:
    return label.startswith("input:")


def is_text(label: str) -> bool:
    return label.startswith("text:")


def kind_of(label: str) -> str:
    """``user@3`` -> ``user``: the kind of a source label, without where it was read."""
    return label.partition("@")[0]
