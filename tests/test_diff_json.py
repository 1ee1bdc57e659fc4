"""diff --json writes its list through commands.diff.changes_json_text: the same text as
every other --json output gives the change dicts (output.json_text: json.dumps with indent=2
and ensure_ascii=False, a byte of a name that is not UTF-8 as \\udcXX)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.commands.diff import _change_json
from git_snapshot.commands.diff import changes_json_text
from git_snapshot.output import json_text
from git_snapshot.store.diff import Change
from git_snapshot.store.objects import Entry

entries = st.builds(
    Entry,
    name=st.binary(min_size=1, max_size=8),
    kind=st.sampled_from([1, 2, 3, 9]),
    mode=st.integers(0, 0o7777),
    mtime_ns=st.integers(0, 2**62),
    size=st.integers(0, 2**40),
    ref=st.binary(max_size=40),  # a key, or a link target (any bytes)
    label=st.just(0),
    flags=st.just(0),
)
changes = st.builds(
    Change,
    path=st.binary(max_size=30),  # control characters, bidi marks, bytes that are not UTF-8
    status=st.sampled_from(["added", "deleted", "modified", "mode", "type"]),
    old=st.none() | entries,
    new=st.none() | entries,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(changes, max_size=5))
def test_changes_json_text_is_json_dumps_with_an_indent(got: list[Change]) -> None:
    want = json_text([_change_json(c) for c in got])
    assert changes_json_text(got) == want
    assert json.loads(want) == json.loads(want.encode("utf-8"))  # UTF-8 text, strict


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(changes, min_size=1, max_size=3), max_size=4))
def test_the_list_written_piece_by_piece_is_the_list_text(runs: list[list[Change]]) -> None:
    """diff --json writes the pieces each process rendered one by one (the 16 MB list of diff
    1 latest on 100 x M is never built whole): the same text as json.dumps, and a newline."""
    import io

    from git_snapshot.commands.diff import json_items
    from git_snapshot.commands.diff import write_json_list

    out = io.StringIO()
    write_json_list([json_items(run) for run in runs], out)
    flat = [c for run in runs for c in run]
    assert out.getvalue() == json_text([_change_json(c) for c in flat]) + "\n"
