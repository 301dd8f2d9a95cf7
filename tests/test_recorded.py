"""Numbers the book quotes from recorded runs (``recsys_ae/chapters/recorded.json``).

Every entry says when, where and how it was measured, and a page that shows a recorded
table shows the recorded values, not a typed copy that may have drifted.
"""

import json
import re
from pathlib import Path

import pytest

from recsys_ae.chapters import tables

ROOT = Path(__file__).resolve().parents[1]
RECORDED = json.loads((ROOT / "recsys_ae" / "chapters" / "recorded.json").read_text())


@pytest.mark.parametrize("key", sorted(RECORDED))
def test_every_recorded_entry_says_when_where_and_how(key):
    entry = RECORDED[key]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["date"]), key
    assert entry["machine"] and entry["command"] and entry["values"], key
    assert tables.recorded(key) == entry


def test_how_to_run_shows_the_recorded_full_profile_run():
    """The table of book/how_to_run.md between its markers is recorded.json's entry."""
    page = (ROOT / "book" / "how_to_run.md").read_text()
    block = page.split("<!-- full_profile_run")[1].split("<!-- /full_profile_run -->")[0]
    entry = RECORDED["full_profile_run"]
    values = entry["values"]
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+\|[^|]+)\|$", block, re.MULTILINE))
    assert set(rows) == set(values["chapters"])
    for stem, measured in values["chapters"].items():
        minutes, mib = (cell.strip() for cell in rows[stem].split("|"))
        assert float(minutes) == measured["minutes"], stem
        assert int(mib.replace(",", "")) == measured["peak_rss_mib"], stem
        assert measured["exit_status"] == 0, stem
    total = re.search(r"^\| \*\*whole book\*\* \| \*\*([\d.]+)\*\* \| \*\*([\d,]+)\*\* \|$",
                      block, re.MULTILINE)
    assert total, "the whole-book row"
    assert float(total.group(1)) == values["total_minutes"]
    assert int(total.group(2).replace(",", "")) == values["peak_rss_mib"]
    assert entry["date"] in block and "to be measured" not in block
