#!/usr/bin/env python3
"""Regenerate README.md's rule table from the rule catalogue (mkdocs_compliant_gallery/catalogue.py).

The table sits between the markers `<!-- rule-table:start -->` and `<!-- rule-table:end -->` under "## Rule codes";
everything between them is replaced by `catalogue.rule_table()`. tests/test_catalogue.py fails until it is rerun
after a rule changes.

    .venv/bin/python scripts/rule_table.py          # rewrite README.md in place
    .venv/bin/python scripts/rule_table.py --check  # only say whether README.md is up to date (exit 1 if not)
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mkdocs_compliant_gallery.catalogue import rule_table  # noqa: E402

README = REPO / "README.md"
START = "<!-- rule-table:start -->"
END = "<!-- rule-table:end -->"


def with_table(text: str, table: str) -> str:
    """`text` with everything between the two markers replaced by `table` (one newline either side)."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise SystemExit(f"{README.name} needs exactly one '{START}' followed by one '{END}'")
    before, rest = text.split(START)
    _old, after = rest.split(END)
    return f"{before}{START}\n{table}\n{END}{after}"


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    updated = with_table(text, rule_table())
    if "--check" in argv:
        if updated != text:
            print(f"{README.name}: the rule table is out of date; run: python scripts/rule_table.py")
            return 1
        print(f"{README.name}: the rule table is up to date")
        return 0
    if updated != text:
        README.write_text(updated, encoding="utf-8")
        print(f"{README.name}: rule table rewritten")
    else:
        print(f"{README.name}: rule table already up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
