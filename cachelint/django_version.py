"""The Django version a project declares (never imported), and the newest release known.

The declarations are read as facts (``cachelint.facts.settings_evidence``) and chosen in the
project model (``cachelint.project.evidence``): lock files give the exact version; pins (``==``,
``~=``) come next, lower bounds (``>=``, ``^``) last. Unknown means "assume the latest release"
for version-gated rules.
"""

from __future__ import annotations

import re

Version = tuple[int, int]

# The newest Django release: the one version to assume when a project declares none. A test
# (tests/test_settings_evidence.py) fails when an installed Django is newer, as a reminder.
LATEST: Version = (6, 1)

# The newest Django each wagtail major release supports (its last minor's upper bound): a
# pinned wagtail with no Django requirement of its own implies at most that Django.
_WAGTAIL_DJANGO = {1: (1, 11), 2: (4, 0), 3: (4, 1), 4: (4, 1), 5: (5, 0), 6: (5, 1)}


def parse_version(text: str) -> Version | None:
    match = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.\d+)?\s*", text)
    return (int(match[1]), int(match[2])) if match else None


def wrapper_implies(package: str, op: str, version: Version) -> Version | None:
    """The newest Django that a pinned (or locked) wrapper package allows, when obvious."""
    if package == "wagtail" and op in ("lock", "==", "===", "~=", "~", ""):
        return _WAGTAIL_DJANGO.get(version[0])
    return None
