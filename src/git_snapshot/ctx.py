"""``contextmanager`` and ``suppress`` as contextlib has them, without importing contextlib.

contextlib imports functools, which imports collections (keyword, operator, reprlib,
itertools) and types: about 10 M instructions, a fifth of what an unchanged hook adds to
Python's start. The modules a hook imports (store.core, store.index, the watcher's journal...)
take these two from here; type checkers see contextlib's own (the same behaviour, tested
side by side in tests/test_hook_imports.py).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from contextlib import contextmanager as contextmanager
    from contextlib import suppress as suppress
else:

    class suppress:
        """contextlib.suppress: the listed exceptions (and their subclasses) end the block."""

        __slots__ = ("_exceptions",)

        def __init__(self, *exceptions):
            self._exceptions = exceptions

        def __enter__(self):
            return None

        def __exit__(self, typ, value, tb):
            return typ is not None and issubclass(typ, self._exceptions)

    class _GeneratorCM:
        """contextlib._GeneratorContextManager's __enter__ and __exit__, line for line."""

        __slots__ = ("gen",)

        def __init__(self, gen):
            self.gen = gen

        def __enter__(self):
            try:
                return next(self.gen)
            except StopIteration:
                raise RuntimeError("generator didn't yield") from None

        def __exit__(self, typ, value, traceback):
            if typ is None:
                try:
                    next(self.gen)
                except StopIteration:
                    return False
                try:
                    raise RuntimeError("generator didn't stop")
                finally:
                    self.gen.close()
            if value is None:
                value = typ()
            try:
                self.gen.throw(typ, value, traceback)
            except StopIteration as exc:
                return exc is not value
            except RuntimeError as exc:
                if exc is value:
                    exc.__traceback__ = traceback
                    return False
                if isinstance(value, StopIteration) and exc.__cause__ is value:
                    value.__traceback__ = traceback
                    return False
                raise
            except BaseException as exc:
                if exc is not value:
                    raise
                exc.__traceback__ = traceback
                return False
            try:
                raise RuntimeError("generator didn't stop after throw()")
            finally:
                self.gen.close()

    def contextmanager(func):
        """contextlib.contextmanager (one-shot managers; not usable as a decorator)."""

        def helper(*args, **kwds):
            return _GeneratorCM(func(*args, **kwds))

        helper.__name__ = func.__name__
        helper.__qualname__ = func.__qualname__
        helper.__doc__ = func.__doc__
        helper.__module__ = func.__module__
        helper.__wrapped__ = func
        return helper


@contextmanager
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """The cyclic collector off for a block that makes many objects and no cycle (a walk, a
    restore's trees, a diff's changes, find's paths): a collection would only rescan them
    (it runs every 700 allocations: 5 % of a first snapshot's time). Back on after only if it
    was on; *freeze*: then what the block made is first put out of its sight for good
    (gc.freeze: a walk's files cache, never scanned again)."""
    import gc  # built in: no file read

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if freeze:
                gc.freeze()
            gc.enable()


def record(name: str, fields: str, defaults: tuple[object, ...] = ()) -> type:
    """collections.namedtuple(name, fields, defaults=...) without collections, and without
    the ``__new__`` namedtuple compiles from source for each class (0.7 M instructions each):
    a tuple subclass with the same fields, defaults, equality, hashing, repr, ``_replace``,
    ``_make``, ``_asdict`` and ``_fields``. Type checkers see the typed NamedTuple beside it."""
    from _collections import _tuplegetter  # type: ignore[import-not-found]  # C, no stub

    names = tuple(fields.replace(",", " ").split())
    n = len(names)
    required = n - len(defaults)
    index = {f: i for i, f in enumerate(names)}
    new = tuple.__new__

    def __new__(cls, *args, **kw):  # type: ignore[no-untyped-def]
        if not kw and required <= len(args) <= n:
            return new(cls, args + defaults[len(args) - required :] if len(args) < n else args)
        if len(args) > n:
            raise TypeError(f"{name}() takes {n} arguments but {len(args)} were given")
        values = list(args) + [_MISSING] * (n - len(args))
        for key, value in kw.items():
            at = index.get(key)
            if at is None:
                raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
            if values[at] is not _MISSING:
                raise TypeError(f"{name}() got multiple values for argument {key!r}")
            values[at] = value
        for at in range(n):
            if values[at] is _MISSING:
                if at < required:
                    raise TypeError(f"{name}() missing required argument {names[at]!r}")
                values[at] = defaults[at - required]
        return new(cls, values)

    def _make(cls, iterable):  # type: ignore[no-untyped-def]
        got = new(cls, iterable)
        if len(got) != n:
            raise TypeError(f"expected {n} arguments, got {len(got)}")
        return got

    def _replace(self, **kw):  # type: ignore[no-untyped-def]
        values = list(self)
        for key, value in kw.items():
            at = index.get(key)
            if at is None:
                raise ValueError(f"got unexpected field names: {[key]!r}")
            values[at] = value
        return new(type(self), values)

    def __repr__(self):  # type: ignore[no-untyped-def]
        inner = ", ".join(f"{f}={v!r}" for f, v in zip(names, self))
        return f"{type(self).__name__}({inner})"

    def _asdict(self):  # type: ignore[no-untyped-def]
        return dict(zip(names, self))

    def __getnewargs__(self):  # type: ignore[no-untyped-def]
        return tuple(self)

    ns: dict[str, object] = {
        "__slots__": (),
        "__new__": __new__,
        "_make": classmethod(_make),
        "_replace": _replace,
        "__repr__": __repr__,
        "_asdict": _asdict,
        "__getnewargs__": __getnewargs__,
        "_fields": names,
        "_field_defaults": dict(zip(names[required:], defaults)),
        "__match_args__": names,
    }
    for at, f in enumerate(names):
        ns[f] = _tuplegetter(at, f"Alias for field number {at}")
    return type(name, (tuple,), ns)


_MISSING = object()
