"""The one Markdown table helper every generated doc and report uses."""

from infra.markdown import cell, table


def test_cell_folds_whitespace_and_escapes_pipes() -> None:
    assert cell("a |  b\n   c") == "a \\| b c"


def test_table_has_a_header_separator_and_one_line_per_row() -> None:
    assert table(["x", "y"], [["1", "2"]]) == ["| x | y |", "|---|---|", "| 1 | 2 |"]
