#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes each ```LANG block of a Markdown file to OUTDIR/readme_<n>.<ext> (n from 1, in order).

Used by the consumer tests (tests/consumer/run_consumer.cmake): every ```cpp block is a whole
program that a consumer builds and runs, and the ```cmake blocks are the consumer projects the
README shows, so the README's examples cannot drift from the library.
"""
import argparse
import pathlib
import re
import sys


def blocks(text: str, lang: str) -> list[str]:
    out, cur = [], None
    for line in text.splitlines():
        if cur is None:
            if re.fullmatch(r"\s*```" + re.escape(lang) + r"\s*", line):
                cur = []
        elif re.fullmatch(r"\s*```\s*", line):
            out.append("\n".join(cur) + "\n")
            cur = None
        else:
            cur.append(line)
    if cur is not None:
        sys.exit(f"readme_blocks: unterminated ```{lang} block")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("markdown", type=pathlib.Path)
    ap.add_argument("outdir", type=pathlib.Path)
    ap.add_argument("--lang", default="cpp", help="fence language to extract (default: cpp)")
    ap.add_argument("--ext", help="file extension (default: the language)")
    ap.add_argument("--min", type=int, default=1, help="fail when fewer blocks are found (default: 1)")
    args = ap.parse_args()
    found = blocks(args.markdown.read_text(encoding="utf-8"), args.lang)
    if len(found) < args.min:
        sys.exit(f"readme_blocks: {len(found)} ```{args.lang} blocks in {args.markdown}, expected at least {args.min}")
    args.outdir.mkdir(parents=True, exist_ok=True)
    ext = args.ext or args.lang
    comment = "//" if args.lang == "cpp" else "#"
    for i, b in enumerate(found, 1):
        if args.lang == "cpp" and "int main(" not in b:
            sys.exit(f"readme_blocks: block {i} of {args.markdown} has no main(): every block must be a whole program")
        (args.outdir / f"readme_{i}.{ext}").write_text(f"{comment} block {i} of {args.markdown.name}\n" + b, encoding="utf-8")
    print(f"readme_blocks: {len(found)} block(s) from {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
