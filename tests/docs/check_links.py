#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks the links of the repository's Markdown files, without the network.

For every *.md (outside build folders and .git):
  - [text](target) and ![alt](target) with a relative target: the file or folder exists; a
    #fragment names a heading of the target Markdown file (GitHub's anchor rules);
  - `path/like/this.ext` in backticks that names a repository file (a known top-level folder and a
    source or doc extension, no wildcard or placeholder): the file exists (not in CHANGELOG.md,
    which names moved and removed files on purpose).
External links (http, https, mailto) are not fetched. Exit status 1 when anything dangles.
"""
import argparse
import pathlib
import re
import sys

SKIP_DIRS = {".git", "build", "node_modules", ".cache", "_deps"}
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
PATH_LIKE = re.compile(r"^(docs|bench|tests|toolchain|examples|platform|runtime)/[\w./-]+\.(md|cpp|hpp|py|sh|cmake|txt|svg|png|json)$")
FENCE = re.compile(r"^\s*(```|~~~)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading.strip())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading keeps its text
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(md: pathlib.Path, cache: dict) -> set:
    if md not in cache:
        seen, out, in_fence = {}, set(), False
        for line in md.read_text(encoding="utf-8").splitlines():
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            m = None if in_fence else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                s = slug(m.group(1))
                n = seen.get(s, 0)
                seen[s] = n + 1
                out.add(s if n == 0 else f"{s}-{n}")
            for a in re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", line):
                out.add(a)
        cache[md] = out
    return cache[md]


def markdown_files(root: pathlib.Path):
    for p in sorted(root.rglob("*.md")):
        rel = p.relative_to(root)
        if not any(part in SKIP_DIRS or part.startswith("build") for part in rel.parts[:-1]):
            yield p


def check(root: pathlib.Path) -> list:
    problems, cache = [], {}
    for md in markdown_files(root):
        in_fence = False
        for lineno, line in enumerate(md.read_text(encoding="utf-8").splitlines(), 1):
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            where = f"{md.relative_to(root)}:{lineno}"
            for target in LINK.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                    continue
                path_part, _, frag = target.partition("#")
                dest = md if not path_part else (md.parent / path_part).resolve()
                if not dest.exists():
                    problems.append(f"{where}: link to a missing file: {target}")
                    continue
                if frag and dest.suffix == ".md" and frag not in anchors(dest, cache):
                    problems.append(f"{where}: no heading '#{frag}' in {dest.relative_to(root)}")
            if md.name == "CHANGELOG.md":  # names files that were moved or removed, on purpose
                continue
            for span in CODE_SPAN.findall(LINK.sub("", line)):
                if PATH_LIKE.match(span) and not (root / span).exists():
                    problems.append(f"{where}: names a file that does not exist: {span}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", nargs="?", default=".", type=pathlib.Path, help="repository root (default: .)")
    args = ap.parse_args()
    root = args.root.resolve()
    problems = check(root)
    for p in problems:
        print(p)
    n = sum(1 for _ in markdown_files(root))
    print(f"check_links: {n} Markdown files, {len(problems)} dangling reference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
