"""The trees bench/peers.py measures on: a web app in a git repository, with or without a
node_modules-like tree, generated deterministically from a seed.

- the app (every tree): sources, tests, docs, a few images, `package.json` and a big
  `package-lock.json`, committed; a `.gitignore` naming `node_modules/`, `build/` and `.env`;
  a few untracked files; the ignored `.env` and `build/` (bundles and source maps);
- the node_modules part (M, L): packages (some scoped, some nested) of many tiny JS, JSON and
  `.d.ts` files and a long tail of big bundles and source maps, a few binaries (`.node`,
  `.wasm`, `.png`, `.woff2`: random bytes, which do not compress), executable `bin/` scripts
  and the `.bin/` symlinks to them.

Text is made of lines drawn from a fixed bank of JS-looking lines (identifiers, keywords,
strings, numbers), so it compresses about as well as real JS does (better in a stream that
sees many files than one file at a time), and each file starts with its own path, so no two
files are the same and no chunk repeats (no free deduplication). Sizes follow a log-normal
law (median about 1.5 KB) scaled so the tree has the wanted total.

Nothing here imports git_snapshot.
"""

from __future__ import annotations

import os
import random
import subprocess
from dataclasses import dataclass
from dataclasses import field

# name: (app files, node_modules files, node_modules bytes)
SIZES: dict[str, tuple[int, int, int]] = {
    "S": (2_000, 0, 0),
    "M": (2_000, 60_000, 570_000_000),
    "L": (2_000, 198_000, 1_860_000_000),
    "quick": (150, 350, 3_000_000),
}
APP_BYTES = {"S": 14_000_000, "M": 14_000_000, "L": 14_000_000, "quick": 600_000}
MAX_FILE = 6_000_000
GITIGNORE = b"node_modules/\nbuild/\n.env\n"

_KEYWORDS = [
    "const",
    "let",
    "var",
    "function",
    "return",
    "if",
    "else",
    "for",
    "while",
    "switch",
    "case",
    "break",
    "new",
    "this",
    "typeof",
    "instanceof",
    "async",
    "await",
    "export",
    "import",
    "from",
    "default",
    "class",
    "extends",
    "super",
    "null",
    "undefined",
    "true",
    "false",
    "try",
    "catch",
    "finally",
    "throw",
    "yield",
    "delete",
    "in",
    "of",
    "void",
]
_SYLLABLES = [
    "ac",
    "al",
    "an",
    "ar",
    "as",
    "at",
    "be",
    "bo",
    "ca",
    "ce",
    "ch",
    "co",
    "da",
    "de",
    "di",
    "do",
    "el",
    "en",
    "er",
    "es",
    "fe",
    "fi",
    "fo",
    "ga",
    "ge",
    "go",
    "ha",
    "he",
    "hi",
    "in",
    "is",
    "it",
    "ka",
    "la",
    "le",
    "li",
    "lo",
    "ma",
    "me",
    "mi",
    "mo",
    "na",
    "ne",
    "no",
    "on",
    "or",
    "pa",
    "pe",
    "po",
    "ra",
    "re",
    "ri",
    "ro",
    "sa",
    "se",
    "si",
    "so",
    "st",
    "ta",
    "te",
    "ti",
    "to",
    "tr",
    "un",
    "ur",
    "va",
    "ve",
    "vi",
    "wa",
    "we",
    "xo",
    "yi",
    "za",
    "ze",
]


@dataclass
class Tree:
    root: str
    name: str
    files: list[str] = field(default_factory=list)  # relative paths of the regular files
    nbytes: int = 0
    symlinks: int = 0
    tracked: int = 0
    untracked: int = 0
    ignored: int = 0
    dirs: int = 0

    def describe(self) -> str:
        return (
            f"{len(self.files):,} files + {self.symlinks} symlinks, {self.nbytes / 1e6:,.0f} MB "
            f"({self.tracked:,} tracked, {self.untracked:,} untracked, {self.ignored:,} ignored "
            f"files), {self.dirs:,} directories"
        )


class Text:
    """Deterministic JS-looking text of any length."""

    def __init__(self, rng: random.Random, bank_lines: int = 15_000) -> None:
        self.rng = rng
        idents = {self.word(rng) for _ in range(6_000)}
        self.idents = sorted(idents)
        ids = self.idents
        templates = [
            "const {a} = require('{b}');",
            "import {{ {a}, {b} }} from './{c}';",
            "function {a}({b}, {c}) {{",
            "  return {a}.{b}({c}, {n});",
            "  if ({a} === {n}) {{",
            "    {a}[{b}] = {c} + {n};",
            "  }}",
            "}}",
            "// {a} {b} {c}: {d} the {e}",
            "  /** @param {{{a}}} {b} {c} */",
            "module.exports.{a} = {b};",
            '  "{a}": "^{n}.{m}.{k}",',
            "    throw new TypeError('{a} {b} {c}');",
            "  for (let i = 0; i < {a}.length; i++) {b}(i);",
            "export default class {A} extends {B} {{",
            "  async {a}({b}) {{ await this.{c}({b}); }}",
            "var {a}=function({b}){{return {b}&&{b}.{c}?{b}:{{{d}:{b}}}}};",
            "  {a}: {n},",
            "  '{a}-{b}': '{c}',",
        ]
        bank = []
        for _ in range(bank_lines):
            t = rng.choice(templates)
            a, b, c, d, e = rng.choices(ids, k=5)
            bank.append(
                t.format(
                    a=a,
                    b=b,
                    c=c,
                    d=d,
                    e=e,
                    A=a.capitalize(),
                    B=b.capitalize(),
                    n=rng.randrange(1000),
                    m=rng.randrange(50),
                    k=rng.randrange(20),
                ).encode()
                + b"\n"
            )
        self.bank = bank
        self.avg = sum(len(x) for x in bank) / len(bank)

    @staticmethod
    def word(rng: random.Random) -> str:
        parts = rng.choices(_SYLLABLES, k=rng.randint(1, 4))
        w = "".join(parts)
        if rng.random() < 0.3:
            w += rng.choice(_SYLLABLES).capitalize()
        if rng.random() < 0.1:
            w = rng.choice(_KEYWORDS) + w.capitalize()
        return w

    def make(self, head: str, size: int) -> bytes:
        first = f"/* {head} */\n".encode()
        need = max(0, size - len(first))
        lines = self.rng.choices(self.bank, k=int(need / self.avg) + 2)
        return (first + b"".join(lines))[:size]


def _sizes(rng: random.Random, n: int, total: int, median: float, sigma: float) -> list[int]:
    """*n* log-normal sizes scaled to sum to about *total* (each at most MAX_FILE)."""
    import math

    raw = [rng.lognormvariate(math.log(median), sigma) for _ in range(n)]
    for _ in range(4):  # scale, cap, rescale what is below the cap
        capped = sum(x for x in raw if x >= MAX_FILE)
        rest = sum(x for x in raw if x < MAX_FILE)
        factor = (total - capped) / rest if rest else 1.0
        raw = [x if x >= MAX_FILE else min(MAX_FILE, x * factor) for x in raw]
    return [int(x) for x in raw]


class _Writer:
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.made: set[str] = set()

    def write(self, rel: str, data: bytes, kind: str, mode: int = 0o644) -> None:
        path = os.path.join(self.tree.root, rel)
        d = os.path.dirname(path)
        if d not in self.made:
            os.makedirs(d, exist_ok=True)
            self.made.add(d)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.chmod(path, mode)  # regardless of the umask
        self.tree.files.append(rel)
        self.tree.nbytes += len(data)
        setattr(self.tree, kind, getattr(self.tree, kind) + 1)

    def symlink(self, target: str, rel: str) -> None:
        path = os.path.join(self.tree.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(target, path)
        self.tree.symlinks += 1


def _app(w: _Writer, text: Text, rng: random.Random, files: int, nbytes: int) -> None:
    """The app: tracked sources; the untracked and ignored parts are made by _app_rest."""
    w.write(".gitignore", GITIGNORE, "tracked")
    w.write(
        "package.json",
        b'{\n  "name": "bench-app",\n  "version": "1.0.0",\n  "private": true\n}\n',
        "tracked",
    )
    w.write("package-lock.json", text.make("package-lock.json", 400_000), "tracked")
    w.write("README.md", text.make("README.md", 6_000), "tracked")
    for i in range(4):
        w.write(f"scripts/task{i}.sh", b'#!/bin/sh\nexec node build.js "$@"\n', "tracked", 0o755)
    n_tracked = files - 8 - 20 - 1 - int(files * 0.08)  # 20 untracked, .env, build
    sizes = _sizes(rng, n_tracked, int(nbytes * 0.6), 1_500, 1.1)
    areas = ["src/components", "src/lib", "src/pages", "src/hooks", "test", "docs", "public"]
    for i, size in enumerate(sizes):
        area = areas[i % len(areas)]
        sub = text.idents[rng.randrange(40)]
        if area == "public" and i % 3 == 0:
            w.write(f"{area}/img/{sub}{i}.png", rng.randbytes(min(size, 200_000)), "tracked")
            continue
        ext = {"docs": "md", "test": "test.js"}.get(area, rng.choice(["js", "ts", "tsx", "css"]))
        rel = f"{area}/{sub}/{text.idents[i % len(text.idents)]}{i}.{ext}"
        w.write(rel, text.make(rel, size), "tracked")


def _app_rest(w: _Writer, text: Text, rng: random.Random, files: int, nbytes: int) -> None:
    w.write(
        ".env",
        b"DATABASE_URL=postgres://app:s3cret@localhost/app\nAPI_KEY=%032x\n" % rng.getrandbits(128),
        "ignored",
        0o600,
    )
    for i in range(20):
        rel = f"src/wip/draft{i}.js" if i < 15 else f"notes/todo{i}.md"
        w.write(rel, text.make(rel, rng.randint(200, 8_000)), "untracked")
    n_build = int(files * 0.08)
    sizes = _sizes(rng, n_build, int(nbytes * 0.4), 20_000, 1.5)
    for i, size in enumerate(sizes):
        kind = "js.map" if i % 2 else "js"
        rel = f"build/static/chunk-{i:04d}.{kind}"
        w.write(rel, text.make(rel, size), "ignored")


def _node_modules(w: _Writer, text: Text, rng: random.Random, files: int, nbytes: int) -> None:
    """*files* files of about *nbytes* in packages below node_modules/."""
    sizes = _sizes(rng, files, nbytes, 1_400, 1.75)
    rng.shuffle(sizes)
    names: set[str] = set()
    packages: list[str] = []
    left = files
    pos = 0
    while left > 0:
        while True:
            name = "-".join(text.word(rng) for _ in range(rng.randint(1, 2)))
            if name not in names:
                names.add(name)
                break
        if rng.random() < 0.12:
            name = f"@{text.word(rng)}/{name}"
        if packages and rng.random() < 0.1:  # a nested dependency
            name = f"{rng.choice(packages)}/node_modules/{name.split('/')[-1]}"
        packages.append(name)
        top = f"node_modules/{name}"
        count = min(left, max(4, int(rng.lognormvariate(3.2, 1.0))))
        left -= count
        mine = sizes[pos : pos + count]
        pos += count
        w.write(
            f"{top}/package.json",
            b'{\n  "name": "%s",\n  "version": "%d.%d.%d",\n  "main": "index.js"\n}\n'
            % (name.encode(), rng.randrange(10), rng.randrange(30), rng.randrange(20)),
            "ignored",
        )
        has_bin = rng.random() < 0.04 and count > 5
        dirs = ["lib", "dist", "esm", "src", "types", "lib/internal"]
        for j, size in enumerate(mine[1:], 1):
            if j == 1:
                rel = f"{top}/index.js"
            elif j == 2:
                rel = f"{top}/README.md"
            elif j == 3:
                w.write(f"{top}/LICENSE", b"MIT License\n\nCopyright (c) bench\n" * 3, "ignored")
                continue
            elif has_bin and j == 4:
                rel = f"{top}/bin/cli.js"
                w.write(rel, b"#!/usr/bin/env node\n" + text.make(rel, size), "ignored", 0o755)
                short = name.split("/")[-1]
                if "/node_modules/" not in name:
                    w.symlink(f"../{name}/bin/cli.js", f"node_modules/.bin/{short}")
                continue
            elif rng.random() < 0.012:
                ext = rng.choice(["node", "wasm", "png", "woff2"])
                rel = f"{top}/{rng.choice(dirs)}/{text.word(rng)}{j}.{ext}"
                w.write(rel, rng.randbytes(size), "ignored")
                continue
            else:
                d = rng.choice(dirs)
                ext = rng.choice(["js", "js", "js", "mjs", "cjs", "d.ts", "js.map", "json"])
                rel = f"{top}/{d}/{text.word(rng)}{j}.{ext}"
            w.write(rel, text.make(rel, size), "ignored")


def _git(root: str, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        ["git", *args],
        cwd=root,
        env=env,
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )


def make(root: str, name: str, seed: int, env: dict[str, str]) -> Tree:
    """Generate tree *name* (a key of SIZES) in *root* (new), a git repository whose app
    sources are committed. *env* is passed to git (it must give a user name and email)."""
    app_files, nm_files, nm_bytes = SIZES[name]
    app_bytes = APP_BYTES[name]
    rng = random.Random(f"{name}/{seed}")
    text = Text(rng)
    tree = Tree(root, name)
    w = _Writer(tree)
    os.makedirs(root)
    _git(root, "init", "-q", env=env)
    _app(w, text, rng, app_files, app_bytes)
    _git(root, "add", "-A", env=env)
    fixed = dict(
        env, GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
    )
    _git(root, "commit", "-q", "-m", "app", env=fixed)
    _app_rest(w, text, rng, app_files, app_bytes)
    if nm_files:
        _node_modules(w, text, rng, nm_files, nm_bytes)
    tree.dirs = len(w.made)
    return tree


def edit(tree: Tree, fraction: float, new: int, seed: int, tag: str) -> list[str]:
    """Append a line to a deterministic *fraction* of the files and add *new* files (in
    `src/new/`, untracked); returns the relative paths changed or added."""
    rng = random.Random(f"{tree.name}/{seed}/{tag}")
    count = max(1, round(len(tree.files) * fraction))
    changed = rng.sample(tree.files, count)
    line = f"// changed: {tag}\n".encode()
    for rel in changed:
        fd = os.open(os.path.join(tree.root, rel), os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        tree.nbytes += len(line)
    text = Text(rng, bank_lines=2_000)
    w = _Writer(tree)
    for i in range(new):
        rel = f"src/new/{tag.replace(' ', '-')}-{i}.js"
        w.write(rel, text.make(rel, rng.randint(500, 6_000)), "untracked")
        changed.append(rel)
    return changed
