"""The API coverage table (docs/api-coverage.md, written by `make api-coverage`) tells the truth:
every name it calls implemented exists in chainrule's mirrored namespace, and regenerating it from
torch's namespaces today gives the committed text (so it is neither stale nor hand-edited)."""
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("api_coverage", ROOT / "tools" / "api_coverage.py")
api_coverage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_coverage)


def _table_rows():
    """(chainrule namespace, name, status) for every row of the committed table."""
    rows, namespace = [], None
    for line in api_coverage.TABLE.read_text().splitlines():
        heading = re.match(r"## `[^`]+` → `([^`]+)`", line)
        if heading:
            namespace = heading.group(1)
        row = re.match(r"\| `([^`]+)` \| (implemented|not yet|out of scope) \|", line)
        if row and namespace:
            rows.append((namespace, row.group(1), row.group(2)))
    return rows


def test_every_name_marked_implemented_exists():
    rows = _table_rows()
    implemented = [(ns, name) for ns, name, status in rows if status == "implemented"]
    assert len(implemented) > 500
    missing = [f"{ns}.{name}" for ns, name in implemented if not hasattr(api_coverage._resolve(ns), name)]
    assert not missing, missing


def test_out_of_scope_rows_give_a_reason():
    text = api_coverage.TABLE.read_text()
    assert not re.search(r"\| out of scope \|[ \t]*\|", text)


def test_the_committed_table_is_current():
    assert api_coverage.render(api_coverage.build()) == api_coverage.TABLE.read_text(), \
        "docs/api-coverage.md is stale: run `make api-coverage`"
