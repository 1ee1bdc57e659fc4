"""Snapshot IDs as users write them, resolved against a repository's snapshots.

- ``7``: the per-repository number that ``list`` shows;
- ``latest``: the newest snapshot of this worktree that restore did not take itself, so that
  after ``restore latest a``, ``restore latest b`` still means the snapshot the user chose
  (nor one of a stash entry's files, taken by ``run -- git stash drop``, which ``latest~N``
  and dates pass over too);
- ``latest~N``: N snapshots before it (counted as ``latest`` counts);
- ``@{DATE}`` in git's date syntax (``@{1.hour.ago}``, ``@{2026-12-01 10:00}``): the newest
  snapshot of this worktree taken at or before that time.

Order is the snapshot number, never the clock, but for snapshots a pull entered (their
number says nothing of when they were taken): Index.snapshots merges those in by time.
"""

from __future__ import annotations

import time

from git_snapshot import gitrepo
from git_snapshot.ctx import record
from git_snapshot.errors import UsageError
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.safety import PRE_RESTORE

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)

FORMS = "a number from 'git snapshot list', latest, latest~N or @{DATE} (e.g. @{1.hour.ago})"
# compiled on first use (re's cache), not when a hook imports this module; digits are ASCII
# (re's \d and int() take any script's: Arabic-Indic or fullwidth digits are no number
# that list shows, and a hostile name must not pass for one)
_NUMBER = r"-?[0-9]+\Z"
_LATEST = r"latest(?:~([0-9]*))?\Z"
_DATE = r"(?s)@\{(.+)\}\Z"
_LONGEST = 18  # digits of a number: more is no snapshot (and int() refuses 4,300)


if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NamedTuple

    class _Ref(NamedTuple):
        number: int | None = None  # a snapshot number
        back: int | None = None  # latest~back
        date: str | None = None  # @{date}

else:  # no typing import at run time (the hook path)
    _Ref = record("Ref", "number back date", defaults=(None, None, None))


class Ref(_Ref):
    __slots__ = ()


def parse(text: str) -> Ref:
    """The form of an ID (UsageError for anything else); dates are read later, by git."""
    import re  # here: duration() is on every hook's path, which imports no re

    text = text.strip()
    if re.match(_NUMBER, text):
        if text.startswith("-"):  # in no ID's form (numbers start at 1): as 1.5 is (RED32)
            raise UsageError(
                f"bad snapshot id {text[:24]!r}: snapshot numbers start at 1; use {FORMS}"
            )
        if len(text) > _LONGEST:
            raise UserError(f"no snapshot {text[:24]}...: see 'git snapshot list'")
        return Ref(number=int(text))
    m = re.match(_LATEST, text)
    if m:
        steps = m.group(1)
        if steps and len(steps) > _LONGEST:
            raise UserError(
                f"latest~{steps[:24]}... goes back further than any snapshot; see "
                "'git snapshot list'"
            )
        return Ref(back=int(steps) if steps else (0 if m.group(1) is None else 1))
    m = re.match(_DATE, text)
    if m:
        return Ref(date=m.group(1))
    if any(c.isdigit() and not c.isascii() for c in text):
        raise UsageError(
            f"bad snapshot id {text!r}: write its number with the digits 0-9, as "
            "'git snapshot list' shows it"
        )
    raise UsageError(f"bad snapshot id {text!r}: use {FORMS}")


# The words git's approxidate reads (date.c); it skips any other word and still answers when
# a number is left, so '1.huor.ago' or '1.min.ago' read as the 1st of the month: a typo chose
# another snapshot (or a shorter keepWithin) without a word. A date must use only these.
_UNITS = ("second", "minute", "hour", "day", "week", "month", "year")
_WORDS = (  # spaced: ' word ' in _WORDS; and git's time zone names
    " seconds minutes hours days weeks months years second minute hour day week month year"
    " ago yesterday noon midnight tea am pm now never last"
    " zero one two three four five six seven eight nine ten"
    " utc gmt idlw cat hst hdt yst ydt pst pdt mst mdt cst cdt est edt ast adt wat wet bst"
    " cet met mewt mest cest mesz fwt fst eet eest wast wadt cct jst east eadt gst nzt nzst"
    " nzdt idle "
)
_NAMES = (  # a month's or weekday's name: 3 letters or more of one, as git matches them
    " january february march april may june july august september october november december"
    " sundays mondays tuesdays wednesdays thursdays fridays saturdays"
)


def _check_date(date: str) -> None:
    """UsageError unless every word of *date* is one git reads (see _WORDS), and 'ago' follows
    a unit: git reads what it knows and skips the rest, so a typo is no error there."""
    import re

    if not date.isascii():
        raise UsageError(
            f"cannot read the date {date!r}: write it in ASCII, e.g. 1.hour.ago, '2026-12-01 10:00'"
        )
    # a lone number, whatever stands around it (-1, +5, 5., .5): git skips the signs and
    # dots and reads the number as a day of the month (@{-1}, git's "the branch before",
    # chose the snapshot of the 1st; RED30); 9 digits or more: a Unix time
    numbers = re.findall(r"[0-9]+", date)
    if len(numbers) == 1 and len(numbers[0]) < 9 and not re.search(r"[a-zA-Z]", date):
        raise UsageError(
            f"cannot read the date {date!r}: git reads a lone number as a day of the month; for "
            "N snapshots back write latest~N, for a time e.g. 1.hour.ago"
        )
    words = re.findall(r"[a-z]+", re.sub(r"(?<=[0-9])[tz](?=[0-9]|\Z)", " ", date.lower()))
    for word in words:
        if f" {word} " in _WORDS or (len(word) >= 3 and f" {word}" in _NAMES):
            continue
        raise UsageError(
            f"cannot read the date {date!r}: git does not know {word!r} (units: seconds, "
            "minutes, hours, days, weeks, months, years; e.g. 1.hour.ago, yesterday, "
            "'2026-12-01 10:00')"
        )
    if "ago" in words and not any(w.rstrip("s") in _UNITS for w in words):
        raise UsageError(
            f"cannot read the date {date!r}: say what is ago, e.g. 2.hours.ago, 3.days.ago"
        )


def timestamp(date: str) -> float:
    """A date in git's syntax as Unix time; UsageError when git cannot read it, or would read
    it otherwise than written (a word it does not know): dates come from the command line
    only (list --since, @{DATE})."""
    _check_date(date)
    when = gitrepo.approxidate(date)
    if when is None:
        raise UsageError(
            f"cannot read the date {date!r}: use git's date syntax, e.g. 1.hour.ago, "
            "yesterday, '2026-12-01 10:00'"
        )
    return float(when)


def is_stash(s: Snapshot) -> bool:
    """Whether *s* holds a stash entry's files (``run -- git stash drop``: its meta names the
    stash commit), not a state of its worktree: ``latest``, ``latest~N`` and dates pass it
    over, ``log`` lists its version as stashed, ``list`` shows '(stash)' for its branch."""
    return bool(s.meta.get("stash"))


def worktree_states(snaps: list[Snapshot]) -> list[Snapshot]:
    """*snaps* but a stash entry's (is_stash), as ``latest``, ``latest~N`` and dates count
    them; all of *snaps* when that leaves none."""
    return [s for s in snaps if not is_stash(s)] or snaps


def passing_restores(snaps: list[Snapshot]) -> list[Snapshot]:
    """*snaps* but those a restore took itself (pre-restore), as ``latest``, ``latest~N``
    and ``restore --newest`` count them (a date does not: a pre-restore snapshot is the
    worktree as it was then); all of *snaps* when that leaves none."""
    return [s for s in snaps if s.trigger != PRE_RESTORE] or snaps


def select(
    ref: Ref,
    all_snaps: list[Snapshot],
    worktree: str | None,
    here: bool = True,
    when: Callable[[str], float] = timestamp,
    own: Callable[[Snapshot], bool] | None = None,
) -> Snapshot:
    """The snapshot *ref* names among one repository's snapshots (oldest first). ``latest``
    and dates count the snapshots of *worktree* (those taken at its path that *own* accepts:
    not a removed worktree's there, RED34 C3), or of the whole repository when that worktree
    has none and is not the one the command runs in (a deleted one, say)."""
    if ref.number is not None and not all_snaps:
        raise UserError(
            f"no snapshot {ref.number}: this repository has none in this store; "
            "'git snapshot list --all' shows the repositories it holds (reach one with --repo NAME)"
        )
    if ref.number is not None:
        for s in all_snaps:
            if s.id == ref.number:
                return s
        raise UserError(f"no snapshot {ref.number} for this repository; see 'git snapshot list'")
    mine = [s for s in all_snaps if s.worktree == worktree] if worktree else []
    if own is not None:
        mine = [s for s in mine if own(s)]
    if not mine and (here or not all_snaps):
        raise UserError("no snapshots of this worktree yet; take one with: git snapshot")
    mine = worktree_states(mine or all_snaps)
    if ref.date is not None:
        at = when(ref.date)
        # git's dates are whole seconds: a date means the whole of its second
        before = [s for s in mine if s.created < at + 1]
        if not before:
            raise UserError(
                f"no snapshot at or before {ref.date} (the oldest is snapshot {mine[0].id}, "
                "see 'git snapshot list')"
            )
        return before[-1]
    chosen = passing_restores(mine)
    back = ref.back or 0
    if back >= len(chosen):
        raise UserError(
            f"latest~{back} goes back further than the {len(chosen)} snapshot(s) there are; "
            "see 'git snapshot list'"
        )
    return chosen[-1 - back]


def resolve(
    store: Store,
    source: str,
    worktree: str | None,
    text: str,
    here: bool = True,
    own: Callable[[Snapshot], bool] | None = None,
) -> Snapshot:
    """The snapshot of *source* that *text* names (see the module docstring)."""
    ref = parse(text)
    snaps = store.snapshots(source)
    if ref.number is not None and all(s.id != ref.number for s in snaps):
        forgotten(store, source, ref.number)
    return select(ref, snaps, worktree, here, own=own)


def forgotten(store: Store, source: str, number: int) -> None:
    """UserError when a loss report names snapshot *number* of *source*, which is not in the
    store: forgotten since (forget, prune, automatic retention; a number is never given
    again). Its restore command, pasted, said only "no snapshot 1", as if mistyped (RED39
    A2)."""
    from git_snapshot import lossrecord
    from git_snapshot.store import losslog

    # losslog.naming: the loss logs' entries by the number their snapshot has now (one that
    # repair renumbered is not forgotten)
    named = [
        e
        for (_, n), e in losslog.naming(store).items()
        if n == number and (e.get("source") or e.get("key")) == source and lossrecord.is_report(e)
    ]
    if named:
        last = max(named, key=lambda e: float(e["time"]))
        raise UserError(
            f"snapshot {number} was forgotten (git snapshot forget, prune or automatic "
            f"retention) since the loss report that named it: {lossrecord.named_line(last)}; "
            "what it held is no longer in the store; look for other versions with: "
            "git snapshot log PATH"
        )


def duration(text: str, usage: bool = False) -> float:
    """A retention duration in seconds: '14d', '12h', '1d12h', or git's '2.weeks.ago'. A
    malformed one is a UserError, or with *usage* (typed on the command line, not read from
    git config) a UsageError."""
    from git_snapshot.store.retention import parse_duration

    try:
        return parse_duration(text)
    except (UserError, ValueError):  # ValueError: a digit int() refuses, such as '²'
        try:
            _check_date(text)
        except UserError:
            when = None
        else:
            when = gitrepo.approxidate(text)
        if when is None or when >= time.time():
            raise (UsageError if usage else UserError)(
                f"bad duration {text!r}: use a number above 0 and a unit (7d, 12h, 2w) or git's "
                "syntax (2.weeks.ago)"
            ) from None
        return time.time() - when


def looks_like_id(text: str) -> bool:
    """Whether *text* is written as an ID (also qualified: ``myrepo:12``), not a path."""
    import re

    if not text.startswith("@{") and ":" in text:
        text = text.rsplit(":", 1)[1]
    if re.match(_NUMBER, text.strip()):  # a negative one too: refused as malformed, no path
        return True
    try:
        parse(text)
    except UserError:
        return False
    return True


def id_and_path(text: str) -> tuple[str, str] | None:
    """(ID, PATH) of git's ``REV:PATH`` habit (``1:README.md``, ``latest~2:src/a.c``,
    ``@{1.hour.ago}:.env``): the part before the first ':' (after ``@{...}``) a plain ID and
    the rest no ID, so never a qualified ID (``myrepo:12``, ``1:2``); else None."""
    if text.startswith("@{"):
        end = text.find("}:")
        if end < 0:
            return None
        cut = end + 1
    else:
        cut = text.find(":")
        if cut <= 0:
            return None
    left, right = text[:cut], text[cut + 1 :]
    if not right or looks_like_id(right):
        return None
    try:
        parse(left)
    except UserError:
        return None
    return left, right
