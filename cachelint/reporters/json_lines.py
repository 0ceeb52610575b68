"""JSON Lines: one compact JSON object per finding per line, without an envelope.

Each object has the shape of an entry of the json reporter's ``findings`` list (see
docs/json-format.md), so tools can stream, ``grep`` or ``jq -c`` the output line by line.
No findings means empty output. Scan errors are not part of the stream: the CLI prints them
on stderr and exits 2.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TextIO

from cachelint.finding import Finding
from cachelint.registry import Rule
from cachelint.reporters import encodable, sorted_findings
from cachelint.reporters.json import _finding


def write(
    findings: Sequence[Finding],
    rules: Mapping[str, Rule],
    stream: TextIO,
    *,
    errors: Sequence[str] = (),
) -> None:
    for finding in sorted_findings(findings):
        # ensure_ascii (the default) also escapes U+2028/U+2029, which some line readers
        # take for line breaks: one finding stays exactly one line.
        entry = encodable(_finding(finding, rules[finding.code]))
        stream.write(json.dumps(entry, separators=(",", ":")) + "\n")
