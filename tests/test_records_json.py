"""records.dumps: json.dumps(sort_keys=True, separators=(",", ":")) without importing json
(re and its compiled patterns: ~30 M instructions of every hook that stores a snapshot). A
record's bytes must not change: the same text for every value, fallbacks included."""

from __future__ import annotations

import json
import math
import subprocess
import sys

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.store import records

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()  # every code point, lone surrogates included
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


def _json(value: object, comma: str = ",", colon: str = ":") -> str:
    return json.dumps(value, sort_keys=True, separators=(comma, colon))


@settings(max_examples=300, deadline=None)
@given(VALUES, st.sampled_from([(",", ":"), (", ", ": ")]))  # a record's; the index's meta
def test_the_same_text_as_json(value: object, separators: tuple[str, str]) -> None:
    assert records.dumps(value, *separators) == _json(value, *separators)


def test_unusual_values_go_to_json() -> None:
    class Str(str):
        pass

    for value in [{1: "a", 2: "b"}, {Str("k"): 1}, [math.nan, -math.inf], {"a": {"b": [()]}}]:
        assert records.dumps(value) == _json(value)
    loop: list[object] = []
    loop.append(loop)
    for bad in (loop, {"x": object()}, {(1, 2): 3}):
        try:
            records.dumps(bad)
        except (ValueError, TypeError) as exc:  # json's own words
            try:
                _json(bad)
            except type(exc) as same:
                assert str(same) == str(exc)
        else:
            raise AssertionError(f"{bad!r} was encoded")


def test_a_record_is_written_without_json() -> None:
    code = """
import sys
from git_snapshot.store import records
from git_snapshot.store.index import Snapshot
s = Snapshot(None, "src", 7, 1.5, "post-checkout", "msg \\u00e9", "/wt", bytes(32), 3, 4, 2, 0,
             {"head": "h", "branch": None})
data = records.encode_record(s, "/p")
assert "json" not in sys.modules and "re" not in sys.modules, sorted(sys.modules)
print(data.decode())
"""
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert ran.stdout.strip() == _json(doc) and doc["message"] == "msg \u00e9"
