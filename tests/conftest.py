from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import git
from hypothesis import HealthCheck
from hypothesis import settings

from git_snapshot.store import Store
from git_snapshot.store import location

TYPE_CHECKING = False
if TYPE_CHECKING:
    from precommithelpers import HookRepo
    from remotehelpers import Weed

# Hypothesis's per-example deadline (200 ms) and its too-slow health check are wall-time
# budgets: CI runs `-n auto` on 2 cores beside other work, where one example of a store write
# took longer (test_a_chunk_written_in_pieces_is_the_dicts_marshal, session 18). Speed is the
# benchmarks' to measure; a test's own settings still override these.
settings.register_profile(
    "suite", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("suite")


def pytest_configure(config: pytest.Config) -> None:
    """Byte-compile the package the tests run, once, before any worker starts. Every hook and
    `git snapshot` a test runs is a new interpreter; where PYTHONDONTWRITEBYTECODE is set (as
    in this project's CI) none of them writes a .pyc, so in a fresh clone each one compiled
    every module it imports from source: 3 hook test files took 58 s of CPU instead of 21
    (session 43). A user's pip install compiles them too; a module edited during the run is
    compiled again from its source by whoever imports it, as without a .pyc."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the controller (or the run without xdist) did it
    import compileall

    import git_snapshot

    compileall.compile_dir(os.path.dirname(git_snapshot.__file__), quiet=2)
    if getattr(config.option, "numprocesses", None):
        _rewrite_once(config)


def _rewrite_once(config: pytest.Config) -> None:
    """With xdist, every worker imports every test module it collects, each one rewritten
    for pytest's asserts; where PYTHONDONTWRITEBYTECODE is set none of them writes the
    rewritten code, so CI's 4 workers rewrote all ~660 test files each (`-n 4 -k none` in a
    fresh clone: 74 s of CPU, 44-107 s before the first test; with this 27 s and 25 s;
    session 51). The controller (and a child of it: two cores) writes
    pytest's cache of the rewritten code once, before the workers start, for the files its
    arguments name (the workers read it as they would a cache of their own: checked against
    the source's hash), and the helpers' plain bytecode. Uses pytest's own rewriting
    functions; should they change, nothing is cached and the workers rewrite as before."""
    import compileall
    import fnmatch

    try:
        from _pytest.assertion import rewrite

        state = config.stash[rewrite.assertstate_key]
        tail = rewrite.PYC_TAIL
    except (ImportError, AttributeError, KeyError):
        return
    here = Path(__file__).parent
    globs = config.getini("python_files")
    files = [Path(__file__)]
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0])
        if path.is_dir():
            found = sorted(path.rglob("*.py"))
            files += [f for f in found if any(fnmatch.fnmatch(f.name, g) for g in globs)]
        elif path.suffix == ".py":
            files.append(path)
    todo = list(dict.fromkeys(f.resolve() for f in files))
    # on two cores: half of them in a child (the workers start once both are done)
    child = os.fork() if len(todo) > 20 and (os.cpu_count() or 1) > 1 else -1
    try:
        for fn in todo[child == 0 :: 2] if child >= 0 else todo:
            pyc = rewrite.get_cache_dir(fn) / (fn.name[:-3] + tail)
            try:
                if rewrite._read_pyc(fn, pyc, state.trace) is not None:
                    continue
                source_hash, co = rewrite._rewrite_test(fn, config)
                if rewrite.try_makedirs(pyc.parent):
                    rewrite._write_pyc(state, co, source_hash, pyc)
            except Exception:  # (a file that does not compile: its collection says why)
                continue
    finally:
        if child == 0:
            os._exit(0)  # (the child never goes on to run pytest)
    # the helpers (storehelpers...) are imported as plain modules: their bytecode once too
    compileall.compile_dir(here, maxlevels=0, quiet=2, rx=_TEST_FILE)
    if child > 0:
        os.waitpid(child, 0)


_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|conftest)\.py$")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (the README's and CI's command): two workers a core, at most 8. Most of a
    test's time is git, a hook's interpreter start or a watcher's settling wait, not the
    worker's own CPU: on 2 cores, 8 files of watcher and loss tests took 190 s with 2 workers
    and 94 s with 4 (session 42); the whole suite at nice 19 beside 4 helpers' tests (load
    8-10) passed."""
    return max(1, min(8, 2 * (os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _janitors_told(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A leftovers.Run a test leaves open in this process (a live run it plays: live_run, a
    run it "kills" by closing its record) keeps its janitor, a child of the test worker,
    waiting for the run's end: it is told at the test's end (and reaped), so no process of
    one test outlives it in the worker (test_splitwalk checks the worker has no child left;
    the CI at 869a045 failed 19 of its tests after test_restore_safety's live run)."""
    from git_snapshot.store import leftovers

    made: list[leftovers.Run] = []
    watch = leftovers.Run._watch

    def recorded(run: leftovers.Run) -> None:
        made.append(run)
        watch(run)

    monkeypatch.setattr(leftovers.Run, "_watch", recorded)
    yield
    for run in made:
        run._dismiss()  # (nothing for a run closed: its janitor told and reaped already)


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the real default store, the user's git config or home."""
    home = tmp_path_factory.mktemp("home")
    store = tmp_path_factory.mktemp("store")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(store))
    # Test stores live under the temp dir, which the product refuses: this is the documented opt-in.
    monkeypatch.setenv("GIT_SNAPSHOT_ALLOW_EPHEMERAL", "1")
    monkeypatch.delenv("GIT_SNAPSHOT_SKIP", raising=False)
    # No test starts the watcher daemon by a hook or install (tests/test_watch_daemon*.py do
    # it on purpose, and stop it).
    monkeypatch.setenv("GIT_SNAPSHOT_WATCH", "0")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test\n\temail = test@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
        "[advice]\n\tdetachedHead = false\n"
        "[core]\n\teditor = true\n"
        # no `git maintenance run --auto` after each commit, merge, rebase...: in a test's
        # few-object repositories it never has work, and it was a git process each (2 ms of
        # a commit's 7.5; session 51)
        "[maintenance]\n\tauto = false\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "PRE_COMMIT_HOME"):
        monkeypatch.delenv(var, raising=False)

    def _forbidden() -> Path:
        raise AssertionError("a test reached the real default store location")

    monkeypatch.setattr(location, "default_store_dir", _forbidden)


@pytest.fixture
def store_dir() -> Path:
    return Path(os.environ["GIT_SNAPSHOT_STORE"])


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    """The test's store, open (the one GIT_SNAPSHOT_STORE names)."""
    with Store(store_dir) as s:
        yield s


def init_repo(path: Path) -> Path:
    """A new git repository at *path* (made, with its parents), nothing committed yet."""
    path.mkdir(parents=True)
    git(path, "init", "-q")
    return path


def committed_repo(path: Path) -> Path:
    """A new git repository at *path* with one commit (README)."""
    r = init_repo(path)
    (r / "README").write_text("hello\n")
    git(r, "add", "README")
    git(r, "commit", "-q", "-m", "init")
    return r


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A fresh git repo with one commit."""
    yield committed_repo(tmp_path / "repo")


@pytest.fixture(scope="module")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Weed]:
    """A real S3 server (SeaweedFS) on loopback for one test module's tests."""
    from remotehelpers import seaweed

    with seaweed(tmp_path_factory.mktemp("weed")) as w:
        yield w


def run_shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this run that every xdist worker sees (their base temps' parent, made anew
    for each run), or the base temp without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> HookRepo:
    """The hook repository made from the working tree and pre-commit's environment for it,
    built once a run whatever the number of workers (tests/precommithelpers.py). Defined here
    only: a test module that imported it would get a copy of its own, built again."""
    from precommithelpers import PRE_COMMIT
    from precommithelpers import shared_hook_repo

    if not PRE_COMMIT.exists():
        pytest.skip("pre-commit is not installed next to this Python")
    return shared_hook_repo(run_shared_dir(tmp_path_factory))


@pytest.fixture
def pc(
    repo: Path,
    hook_repo: HookRepo,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """The conftest repo, ignoring .env, with the README's pre-commit config committed and a
    PRE_COMMIT_HOME of its own; the test runs `pre-commit install` (precommithelpers.
    pc_install) once its branches are made."""
    from hookhelpers import commit
    from hookhelpers import put_venv_on_path

    put_venv_on_path(monkeypatch)
    home = hook_repo.fresh_home(tmp_path_factory.mktemp("pre-commit-home") / "home")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(home))
    commit(repo, ".gitignore", b".env\n")
    commit(repo, ".pre-commit-config.yaml", hook_repo.config().encode())
    commit(repo, "notes.txt", b"committed notes\n")
    yield repo


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A folder under /tmp that user nobody may enter (pytest's own are root's, 0700)."""
    path = Path(tempfile.mkdtemp(prefix="owner-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)
