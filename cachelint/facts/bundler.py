"""JavaScript bundler configs (webpack, rspack, Vite, Rollup, esbuild), read as text.

CL501 needs one thing from them: does the bundler write content-hashed file names, and into
which folder? No JavaScript parser: a text search for the output folder and the file-name
patterns, which is what these configs keep as literals in practice. What cannot be read is
"not hashed" (the finding stays).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

# Config files by name: webpack.config.js, webpack.prod.js, vite.config.ts, rollup.config.mjs,
# esbuild.config.mjs, rspack.config.js (``discovery`` uses it to find them).
CONFIG_NAME = re.compile(r"^(?:webpack|rspack|vite|rollup|esbuild)(?:\.[\w-]+)*\.(?:js|cjs|mjs|ts|cts|mts)$")
_HASH_TOKEN = re.compile(r"\[(?:contenthash|chunkhash|fullhash|hash)(?::\d+)?\]")
_STRING = re.compile(r"""(["'`])((?:(?!\1)[^\\\n]|\\.)*)\1""")


@dataclass(frozen=True)
class BundlerFacts:
    path: str  # display path of the config file
    tool: str  # "webpack", "vite", ...
    hashed: bool  # writes content-hashed names (its own patterns, or Vite's default)
    out_dir: str | None  # the output folder, relative to the scan's working directory; None: unknown
    line: int  # where the evidence is: the hash pattern, else the output folder, else 1
    digest: str = ""


def _strings(text: str) -> list[str]:
    return [m.group(2) for m in _STRING.finditer(text)]


def _value_after(text: str, key: str, start: int = 0) -> tuple[str, int] | None:
    """The source of ``key: <value>`` (up to the next comma or newline), and its offset."""
    match = re.compile(rf"\b{key}\s*:\s*").search(text, start)
    if match is None:
        return None
    end = len(text)
    depth = 0
    for index in range(match.end(), len(text)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                end = index
                break
            depth -= 1
        elif char in ",\n" and depth == 0:
            end = index
            break
    return text[match.end() : end], match.start()


def _folder(source: str) -> str | None:
    """``path.resolve(__dirname, "static", "dist")`` -> ``static/dist``; None when no literal."""
    parts = [s for s in _strings(source) if s and s != "__dirname"]
    if not parts:
        return None
    return posixpath.normpath("/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(parts)))


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def parse_bundler(text: str, path: str) -> BundlerFacts:
    name = posixpath.basename(path)
    tool = name.split(".", 1)[0]
    hashed, line = False, 1
    out: str | None = None
    if tool in ("webpack", "rspack"):
        token = _HASH_TOKEN.search(text)
        hashed = token is not None
        if token is not None:
            line = _line(text, token.start())
        output = re.search(r"\boutput\s*:\s*\{", text)
        found = _value_after(text, "path", output.end()) if output else None
        out = _folder(found[0]) if found else "dist"  # webpack's default output.path
    elif tool == "vite":
        names = [_value_after(text, key) for key in ("entryFileNames", "chunkFileNames", "assetFileNames")]
        patterns = [s for found in names if found for s in _strings(found[0])]
        # Vite hashes entry, chunk and asset names unless the config names them otherwise.
        hashed = all(_HASH_TOKEN.search(p) for p in patterns)
        found = _value_after(text, "outDir")
        out = _folder(found[0]) if found else "dist"
        if found:
            line = _line(text, found[1])
    elif tool in ("rollup", "esbuild"):
        key = "entryFileNames" if tool == "rollup" else "entryNames"
        found = _value_after(text, key)
        hashed = bool(found and any(_HASH_TOKEN.search(s) for s in _strings(found[0])))
        if found:
            line = _line(text, found[1])
        for key in ("dir", "outdir", "file", "outfile"):
            where = _value_after(text, key)
            if where is not None:
                folder = _folder(where[0])
                out = posixpath.dirname(folder) if folder and key in ("file", "outfile") else folder
                break
    if out is not None and not out.startswith("/"):
        out = posixpath.normpath(posixpath.join(posixpath.dirname(path), out))
    return BundlerFacts(path, tool, hashed, out, line)
