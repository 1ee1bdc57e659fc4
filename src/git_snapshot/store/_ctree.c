/* A changed folder's tree and files-cache record, built in C (store/walker.py, _Walker.tree).

   build() is store/ctree_py.py's build() in C: the same arguments, the same results, the same
   calls of the Python callables in the same order (ctree_py.py is the specification; the
   tests run both on generated folders and compare). It holds the GIL throughout (it calls
   back into Python) and trusts nothing it reads from the old record: a files-cache record
   comes from a file on disk, and a damaged one only ever makes an entry go the slow way
   (the callback), never a read out of bounds. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

/* build()'s arguments and results, as store/ctree.py's INTERFACE: bumped at every change of
   them, so that a module built from an older source (an editable install not rebuilt after a
   pull) is not used (the twin runs) instead of failing every snapshot */
#define INTERFACE 10

#ifndef GS_CTREE_SOURCE_SHA256
#define GS_CTREE_SOURCE_SHA256 ""
#endif

/* filescache.HEAD.size, STAT.size, KEY; objects.HEAD.size (a tree entry's head) */
#define REC_HEAD 96
#define STAT_SIZE 40
#define KEY_SIZE 32
#define ENTRY_HEAD 29
#define TREE_MAGIC "GSTREE1\n"
#define TREE_MAGIC_LEN 8
#define FILE_KIND 1
#define DIR_KIND 2

static PyObject *struct_error; /* struct.error: what struct.pack raises for a field out of range */

static uint64_t
ld64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = (v << 8) | p[k];
    return v;
}

static unsigned char *
st_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int k = 0; k < bytes; k++) {
        p[k] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    return p + bytes;
}

/* objects.HEAD ("<BBBIqQHI"): kind, label, flags, mode, mtime_ns, size, name len, ref len */
static unsigned char *
put_head(unsigned char *p, unsigned kind, unsigned label, unsigned flags, uint32_t mode,
         int64_t mtime, uint64_t size, uint16_t nlen, uint32_t rlen)
{
    *p++ = (unsigned char)kind;
    *p++ = (unsigned char)label;
    *p++ = (unsigned char)flags;
    p = st_le(p, mode, 4);
    p = st_le(p, (uint64_t)mtime, 8);
    p = st_le(p, size, 8);
    p = st_le(p, nlen, 2);
    return st_le(p, rlen, 4);
}

/* *o* as an integer (PyNumber_Index), or NULL with struct.error, as struct.pack says */
static PyObject *
as_index(PyObject *o)
{
    PyObject *x = PyNumber_Index(o);
    if (x == NULL)
        PyErr_SetString(struct_error, "required argument is not an integer");
    return x;
}

/* An integer field of a struct.pack: *o* as an integer in [lo, hi] (unsigned 64-bit when
   *u64*), else struct.error, as struct.pack says. */
static int
field(PyObject *o, int64_t lo, int64_t hi, int u64, uint64_t *out)
{
    if (PyLong_CheckExact(o)) { /* (the common case: no PyNumber_Index) */
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow == 0 && v >= lo && (u64 || v <= hi)) {
            *out = (uint64_t)v;
            return 0;
        }
    }
    PyObject *x = as_index(o);
    if (x == NULL)
        return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(x, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(x);
        return -1;
    }
    if (overflow > 0 && u64) {
        unsigned long long u = PyLong_AsUnsignedLongLong(x);
        Py_DECREF(x);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_SetString(struct_error, "argument out of range");
            return -1;
        }
        *out = u;
        return 0;
    }
    Py_DECREF(x);
    if (overflow != 0 || v < lo || (!u64 && v > hi)) {
        PyErr_SetString(struct_error, "argument out of range");
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* A time field: *o* as field() reads it, but one out of an int64's range is its nearer
   bound, as objects.encode_into holds it (objects.held_ns) */
static int
time_field(PyObject *o, uint64_t *out)
{
    PyObject *x = as_index(o);
    if (x == NULL)
        return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(x, &overflow);
    Py_DECREF(x);
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = (uint64_t)(overflow > 0 ? INT64_MAX : overflow < 0 ? INT64_MIN : v);
    return 0;
}

/* An entry's integer fields, as entry_size read them */
typedef struct {
    uint64_t kind, label, flags, mode, mtime, size;
} fields_t;

/* The size of an entry (an 8-tuple: name, kind, mode, mtime_ns, size, ref, label, flags)
   encoded, its fields read into *f* and checked as objects.encode_into's struct.pack and
   join would; -1 on error. */
static Py_ssize_t
entry_size(PyObject *e, fields_t *f)
{
    if (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) != 8) {
        PyErr_SetString(PyExc_TypeError, "an entry is an 8-tuple");
        return -1;
    }
    /* (struct.pack's order: kind, label, flags, mode, mtime_ns, size) */
    if (field(PyTuple_GET_ITEM(e, 1), 0, 255, 0, &f->kind) < 0 ||
        field(PyTuple_GET_ITEM(e, 6), 0, 255, 0, &f->label) < 0 ||
        field(PyTuple_GET_ITEM(e, 7), 0, 255, 0, &f->flags) < 0 ||
        field(PyTuple_GET_ITEM(e, 2), 0, UINT32_MAX, 0, &f->mode) < 0 ||
        time_field(PyTuple_GET_ITEM(e, 3), &f->mtime) < 0 ||
        field(PyTuple_GET_ITEM(e, 4), 0, 0, 1, &f->size) < 0)
        return -1;
    PyObject *name = PyTuple_GET_ITEM(e, 0), *ref = PyTuple_GET_ITEM(e, 5);
    if (!PyBytes_Check(name) || !PyBytes_Check(ref)) {
        PyErr_SetString(PyExc_TypeError, "an entry's name and ref are bytes");
        return -1;
    }
    if (PyBytes_GET_SIZE(name) > 0xffff || PyBytes_GET_SIZE(ref) > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(struct_error, "argument out of range");
        return -1;
    }
    return ENTRY_HEAD + PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(ref);
}

static unsigned char *
put_entry(unsigned char *p, PyObject *e, const fields_t *f)
{
    PyObject *name = PyTuple_GET_ITEM(e, 0), *ref = PyTuple_GET_ITEM(e, 5);
    Py_ssize_t nlen = PyBytes_GET_SIZE(name), rlen = PyBytes_GET_SIZE(ref);
    p = put_head(p, (unsigned)f->kind, (unsigned)f->label, (unsigned)f->flags,
                 (uint32_t)f->mode, (int64_t)f->mtime, f->size, (uint16_t)nlen, (uint32_t)rlen);
    memcpy(p, PyBytes_AS_STRING(name), nlen);
    p += nlen;
    memcpy(p, PyBytes_AS_STRING(ref), rlen);
    return p + rlen;
}

/* names sorted as Python sorts bytes (memcmp, then the shorter first), stably */
static int
name_lt(PyObject *const *names, Py_ssize_t a, Py_ssize_t b)
{
    Py_ssize_t la = PyBytes_GET_SIZE(names[a]), lb = PyBytes_GET_SIZE(names[b]);
    int c = memcmp(PyBytes_AS_STRING(names[a]), PyBytes_AS_STRING(names[b]), la < lb ? la : lb);
    return c < 0 || (c == 0 && la < lb);
}

static void
merge_sort(PyObject *const *names, Py_ssize_t *v, Py_ssize_t *tmp, Py_ssize_t n)
{
    if (n < 2)
        return;
    if (n <= 16) { /* insertion sort: stable */
        for (Py_ssize_t k = 1; k < n; k++) {
            Py_ssize_t x = v[k], m = k;
            while (m > 0 && name_lt(names, x, v[m - 1])) {
                v[m] = v[m - 1];
                m--;
            }
            v[m] = x;
        }
        return;
    }
    Py_ssize_t h = n / 2;
    merge_sort(names, v, tmp, h);
    merge_sort(names, v + h, tmp, n - h);
    if (!name_lt(names, v[h], v[h - 1]))
        return; /* already in order (a listing in name order) */
    memcpy(tmp, v, h * sizeof(Py_ssize_t));
    Py_ssize_t a = 0, b = h, o = 0;
    while (a < h && b < n)
        v[o++] = name_lt(names, v[b], tmp[a]) ? v[b++] : tmp[a++];
    while (a < h)
        v[o++] = tmp[a++];
}

static int
all_zero(const unsigned char *p, Py_ssize_t n)
{
    for (Py_ssize_t k = 0; k < n; k++)
        if (p[k])
            return 0;
    return 1;
}

/* size_sum's running total: an int64 that flows into a Python int before it would overflow */
typedef struct {
    int64_t small;
    PyObject *big; /* NULL until needed */
} total_t;

static int
total_add(total_t *t, int64_t v)
{
    int64_t r;
    if (!__builtin_add_overflow(t->small, v, &r)) {
        t->small = r;
        return 0;
    }
    PyObject *x = PyLong_FromLongLong(t->small), *s;
    if (x == NULL)
        return -1;
    if (t->big == NULL) {
        t->big = x;
    } else {
        s = PyNumber_Add(t->big, x);
        Py_DECREF(x);
        if (s == NULL)
            return -1;
        Py_SETREF(t->big, s);
    }
    t->small = v;
    return 0;
}

static PyObject *
total_value(total_t *t)
{
    PyObject *x = PyLong_FromLongLong(t->small);
    if (x == NULL || t->big == NULL)
        return x;
    PyObject *s = PyNumber_Add(t->big, x);
    Py_DECREF(x);
    return s;
}

/* Whether the regular file i (its packed lstat *sb*) is plain: see ctree_py.build. 1 yes
   (its record's key at *key*, its label at *lab*: *classify*'s, else *fixed* (an inherited
   label, NULL: none), else 0), 0 no, -1 an error. */
static int
plain_entry(PyObject *name, Py_ssize_t i, const unsigned char *sb, const unsigned char *old,
            Py_ssize_t hn, int same, PyObject *where, PyObject *damaged, PyObject *hidden,
            PyObject *classify, PyObject *exclude, PyObject *rel, PyObject *label,
            PyObject *fixed, const unsigned char **key, unsigned char *lab)
{
    if (hidden != Py_None) {
        int r = PySequence_Contains(hidden, name);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
    Py_ssize_t j;
    if (same) {
        j = i;
    } else {
        PyObject *w = PyDict_GetItemWithError(where, name);
        if (w == NULL)
            return PyErr_Occurred() ? -1 : 0;
        if (!PyLong_Check(w))
            return 0;
        j = PyLong_AsSsize_t(w);
        if (j == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
    }
    if (j < 0 || j >= hn || memcmp(old + REC_HEAD + STAT_SIZE * j, sb, STAT_SIZE) != 0)
        return 0;
    PyObject *rel_name = NULL;
    if (exclude != Py_None || classify != Py_None) {
        rel_name = PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(rel) + PyBytes_GET_SIZE(name));
        if (rel_name == NULL)
            return -1;
        memcpy(PyBytes_AS_STRING(rel_name), PyBytes_AS_STRING(rel), PyBytes_GET_SIZE(rel));
        memcpy(PyBytes_AS_STRING(rel_name) + PyBytes_GET_SIZE(rel), PyBytes_AS_STRING(name),
               PyBytes_GET_SIZE(name));
    }
    int ret = -1;
    if (exclude != Py_None) {
        PyObject *args[2] = {rel_name, Py_False};
        PyObject *r = PyObject_Vectorcall(exclude, args, 2, NULL);
        if (r == NULL)
            goto done;
        int t = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (t != 0) {
            ret = t < 0 ? -1 : 0;
            goto done;
        }
    }
    const unsigned char *k = old + REC_HEAD + STAT_SIZE * hn + KEY_SIZE * j;
    if (all_zero(k, KEY_SIZE)) {
        ret = 0;
        goto done;
    }
    if (damaged != Py_None) {
        int t = PyObject_IsTrue(damaged);
        if (t < 0)
            goto done;
        if (t) {
            PyObject *kb = PyBytes_FromStringAndSize((const char *)k, KEY_SIZE);
            if (kb == NULL)
                goto done;
            int r = PySequence_Contains(damaged, kb);
            Py_DECREF(kb);
            if (r != 0) {
                ret = r < 0 ? -1 : 0;
                goto done;
            }
        }
    }
    *lab = 0;
    if (classify != Py_None) {
        PyObject *args[3] = {rel_name, Py_False, label};
        PyObject *r = PyObject_Vectorcall(classify, args, 3, NULL);
        if (r == NULL)
            goto done;
        uint64_t v;
        int bad = field(r, 0, 255, 0, &v);
        Py_DECREF(r);
        if (bad < 0)
            goto done;
        *lab = (unsigned char)v;
    } else if (fixed != NULL) { /* inherited: no call, no path made */
        uint64_t v;
        if (field(fixed, 0, 255, 0, &v) < 0)
            goto done;
        *lab = (unsigned char)v;
    }
    *key = k;
    ret = 1;
done:
    Py_XDECREF(rel_name);
    return ret;
}

PyDoc_STRVAR(build_doc,
"build(names, stats, old, hn, same, where, damaged, hidden, general, classify, exclude, rel,\n"
"      label, inherit, other, done=None) -> (tree, rstats, rkeys, files, size)\n\n"
"store/ctree_py.py's build(), in C.");

static PyObject *
build(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 15 && nargs != 16) {
        PyErr_SetString(PyExc_TypeError, "build() takes 15 or 16 arguments");
        return NULL;
    }
    PyObject *names_arg = args[0], *stats = args[1], *old = args[2], *where = args[5];
    PyObject *damaged = args[6], *hidden = args[7], *classify = args[9], *exclude = args[10];
    PyObject *rel = args[11], *label = args[12], *inherit = args[13], *other = args[14];
    /* index -> a folder's entry, walked already (None, or left out: none) */
    PyObject *done = nargs > 15 ? args[15] : Py_None;
    PyObject *fixed = NULL; /* label, when it is inherit: every plain file's, without a call */
    Py_ssize_t hn = PyLong_AsSsize_t(args[3]);
    if (hn == -1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return NULL;
        PyErr_Clear();
        hn = -1; /* more entries than any record could hold: none (below) */
    }
    int same = PyObject_IsTrue(args[4]), general = PyObject_IsTrue(args[8]);
    if (same < 0 || general < 0)
        return NULL;
    if (!PyBytes_Check(stats) || !PyBytes_Check(rel)) {
        PyErr_SetString(PyExc_TypeError, "stats and rel are bytes");
        return NULL;
    }
    if (!same && !PyDict_Check(where)) {
        PyErr_SetString(PyExc_TypeError, "where is a dict");
        return NULL;
    }
    if (done != Py_None && !PyDict_Check(done)) {
        PyErr_SetString(PyExc_TypeError, "done is a dict or None");
        return NULL;
    }
    int any_hidden = PyObject_IsTrue(hidden);
    if (any_hidden < 0)
        return NULL;
    if (!any_hidden)
        hidden = Py_None; /* (None or an empty set: nothing hidden) */
    PyObject *names = PySequence_Tuple(names_arg); /* (the callback cannot change it under us) */
    if (names == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    PyObject *const *nv = &PyTuple_GET_ITEM(names, 0);
    PyObject *tree = NULL, *rstats = NULL, *rkeys = NULL, *result = NULL, **got = NULL;
    PyObject *todo = NULL, *answers = NULL;
    Py_ssize_t *order = NULL, *todo_o = NULL;
    fields_t *ef = NULL;
    unsigned char *labels = NULL;
    const unsigned char **keys = NULL;
    total_t size_sum = {0, NULL};
    Py_ssize_t files = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyBytes_Check(nv[i])) {
            PyErr_SetString(PyExc_TypeError, "names are bytes");
            goto fail;
        }
    }
    if (PyBytes_GET_SIZE(stats) != STAT_SIZE * n) {
        PyErr_SetString(PyExc_ValueError, "stats: one packed lstat per name");
        goto fail;
    }
    if (inherit != Py_None) {
        /* (as the twin's ==: no identity shortcut) */
        PyObject *r = PyObject_RichCompare(label, inherit, Py_EQ);
        if (r == NULL)
            goto fail;
        int eq = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (eq < 0)
            goto fail;
        if (eq) {
            classify = Py_None;
            fixed = label;
        }
    }
    /* the old record: its stats and keys within its bytes, else none (hn 0) */
    if (hn < 0 || !PyBytes_Check(old) ||
        PyBytes_GET_SIZE(old) / (STAT_SIZE + KEY_SIZE) < hn ||
        PyBytes_GET_SIZE(old) < REC_HEAD + (STAT_SIZE + KEY_SIZE) * hn)
        hn = 0;
    const unsigned char *ob = hn ? (const unsigned char *)PyBytes_AS_STRING(old) : NULL;
    const unsigned char *sv = (const unsigned char *)PyBytes_AS_STRING(stats);
    order = PyMem_Malloc(sizeof(Py_ssize_t) * (2 * n + 1));
    todo_o = PyMem_Malloc(sizeof(Py_ssize_t) * (n + 1));
    ef = PyMem_Malloc(sizeof(fields_t) * (n + 1));
    todo = PyList_New(0);
    if (todo == NULL)
        goto fail;
    got = PyMem_Calloc(n + 1, sizeof(PyObject *));
    labels = PyMem_Malloc(n + 1);
    keys = PyMem_Calloc(n + 1, sizeof(*keys));
    rstats = PyBytes_FromStringAndSize(NULL, STAT_SIZE * n);
    rkeys = PyBytes_FromStringAndSize(NULL, KEY_SIZE * n);
    if (order == NULL || todo_o == NULL || ef == NULL || got == NULL || labels == NULL || keys == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    if (rstats == NULL || rkeys == NULL)
        goto fail;
    unsigned char *rs = (unsigned char *)PyBytes_AS_STRING(rstats);
    unsigned char *rk = (unsigned char *)PyBytes_AS_STRING(rkeys);
    memset(rs, 0, STAT_SIZE * n);
    memset(rk, 0, KEY_SIZE * n);
    for (Py_ssize_t i = 0; i < n; i++)
        order[i] = i;
    merge_sort(nv, order, order + n, n);
    Py_ssize_t total = TREE_MAGIC_LEN;
    for (Py_ssize_t o = 0; o < n; o++) {
        Py_ssize_t i = order[o];
        const unsigned char *sb = sv + STAT_SIZE * i;
        int plain = 0;
        if (!general && hn && (ld64(sb + 32) & 0170000) == 0100000) {
            plain = plain_entry(nv[i], i, sb, ob, hn, same, where, damaged, hidden, classify,
                                exclude, rel, label, fixed, &keys[o], &labels[o]);
            if (plain < 0)
                goto fail;
        }
        if (plain) {
            int64_t size = (int64_t)ld64(sb);
            if (size < 0 || PyBytes_GET_SIZE(nv[i]) > 0xffff) {
                PyErr_SetString(struct_error, "argument out of range");
                goto fail;
            }
            memcpy(rs + STAT_SIZE * i, sb, STAT_SIZE);
            memcpy(rk + KEY_SIZE * i, keys[o], KEY_SIZE);
            files++;
            if (total_add(&size_sum, size) < 0)
                goto fail;
            total += ENTRY_HEAD + PyBytes_GET_SIZE(nv[i]) + KEY_SIZE;
            continue;
        }
        PyObject *io = PyLong_FromSsize_t(i);
        if (io == NULL)
            goto fail;
        if (done != Py_None) {
            /* a folder walked already (a tuple of 8 whose kind is exactly the int DIR_KIND
               and whose ref is 32 bytes): its entry, its lstat as listed and its tree's key,
               without other() (the walk's parents of a changed folder: every entry) */
            PyObject *e = PyDict_GetItemWithError(done, io);
            if (e == NULL && PyErr_Occurred()) {
                Py_DECREF(io);
                goto fail;
            }
            if (e != NULL && PyTuple_Check(e) && PyTuple_GET_SIZE(e) == 8 &&
                PyLong_CheckExact(PyTuple_GET_ITEM(e, 1)) &&
                PyBytes_CheckExact(PyTuple_GET_ITEM(e, 5)) &&
                PyBytes_GET_SIZE(PyTuple_GET_ITEM(e, 5)) == KEY_SIZE) {
                int overflow = 0;
                long kind = PyLong_AsLongAndOverflow(PyTuple_GET_ITEM(e, 1), &overflow);
                if (kind == DIR_KIND && !overflow) {
                    Py_DECREF(io);
                    /* held first: a field's __index__ (entry_size) may change *done* */
                    Py_INCREF(e);
                    got[o] = e;
                    Py_ssize_t sz = entry_size(e, &ef[o]);
                    if (sz < 0)
                        goto fail;
                    total += sz;
                    memcpy(rs + STAT_SIZE * i, sb, STAT_SIZE);
                    memcpy(rk + KEY_SIZE * i, PyBytes_AS_STRING(PyTuple_GET_ITEM(e, 5)), KEY_SIZE);
                    continue;
                }
            }
        }
        int bad = PyList_Append(todo, io);
        Py_DECREF(io);
        if (bad < 0)
            goto fail;
        todo_o[PyList_GET_SIZE(todo) - 1] = o;
    }
    Py_ssize_t t = PyList_GET_SIZE(todo);
    if (t > 0) { /* every other entry, in name order, by one call */
        PyObject *list = PyObject_Vectorcall(other, &todo, 1, NULL);
        if (list == NULL)
            goto fail;
        if (!PyList_Check(list) || PyList_GET_SIZE(list) != t) {
            Py_DECREF(list);
            PyErr_SetString(PyExc_TypeError, "other(todo) gives a list, one answer a name");
            goto fail;
        }
        /* a tuple of its own: an entry's field (its __index__) cannot change it under us */
        answers = PyList_AsTuple(list);
        Py_DECREF(list);
        if (answers == NULL)
            goto fail;
    }
    for (Py_ssize_t a = 0; a < t; a++) {
        PyObject *r = PyTuple_GET_ITEM(answers, a);
        Py_ssize_t o = todo_o[a], i = order[o];
        if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 3) {
            PyErr_SetString(PyExc_TypeError, "other() gives (entry, rstat, rkey)");
            goto fail;
        }
        PyObject *e = PyTuple_GET_ITEM(r, 0), *s = PyTuple_GET_ITEM(r, 1);
        PyObject *k = PyTuple_GET_ITEM(r, 2);
        if (!PyBytes_Check(s) || PyBytes_GET_SIZE(s) != STAT_SIZE || !PyBytes_Check(k) ||
            PyBytes_GET_SIZE(k) != KEY_SIZE) {
            PyErr_SetString(PyExc_ValueError, "other() gives a 40-byte rstat, a 32-byte rkey");
            goto fail;
        }
        memcpy(rs + STAT_SIZE * i, PyBytes_AS_STRING(s), STAT_SIZE);
        memcpy(rk + KEY_SIZE * i, PyBytes_AS_STRING(k), KEY_SIZE);
        if (e != Py_None) {
            Py_ssize_t sz = entry_size(e, &ef[o]);
            if (sz < 0)
                goto fail;
            total += sz;
            Py_INCREF(e);
            got[o] = e;
        }
    }
    tree = PyBytes_FromStringAndSize(NULL, total);
    if (tree == NULL)
        goto fail;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(tree);
    memcpy(p, TREE_MAGIC, TREE_MAGIC_LEN);
    p += TREE_MAGIC_LEN;
    for (Py_ssize_t o = 0; o < n; o++) {
        if (got[o] != NULL) {
            p = put_entry(p, got[o], &ef[o]);
        } else if (keys[o] != NULL) {
            Py_ssize_t i = order[o];
            const unsigned char *sb = sv + STAT_SIZE * i;
            Py_ssize_t nlen = PyBytes_GET_SIZE(nv[i]);
            p = put_head(p, FILE_KIND, labels[o], 0, (uint32_t)(ld64(sb + 32) & 07777),
                         (int64_t)ld64(sb + 8), ld64(sb), (uint16_t)nlen, KEY_SIZE);
            memcpy(p, PyBytes_AS_STRING(nv[i]), nlen);
            p += nlen;
            memcpy(p, keys[o], KEY_SIZE);
            p += KEY_SIZE;
        }
    }
    PyObject *sum = total_value(&size_sum);
    if (sum == NULL)
        goto fail;
    result = Py_BuildValue("(NNNnN)", tree, rstats, rkeys, files, sum);
    tree = rstats = rkeys = NULL; /* (stolen, or freed on failure) */
fail:
    Py_XDECREF(tree);
    Py_XDECREF(rstats);
    Py_XDECREF(rkeys);
    Py_XDECREF(size_sum.big);
    if (got != NULL) {
        for (Py_ssize_t o = 0; o < n; o++)
            Py_XDECREF(got[o]);
    }
    PyMem_Free(got);
    PyMem_Free(order);
    PyMem_Free(todo_o);
    PyMem_Free(ef);
    Py_XDECREF(todo);
    Py_XDECREF(answers);
    PyMem_Free(labels);
    PyMem_Free(keys);
    Py_DECREF(names);
    return result;
}

/* fill(dirs, pos, buf, at, limit, piece) -> (pos, end, count): filescache.Writer.chunk's
   pieces in C. From the position *pos* of the dict *dirs* (0 at first: PyDict_Next's own),
   the bytes marshal (version 2) writes for each pair of a bytes path and a bytes record
   (b"s", the length in 4 bytes, the bytes; the path, then the record) go into the bytearray
   *buf* from offset *at*, *piece* pairs of the dict at a time (a pair not both exact bytes is
   left out, and counts in its piece), until a piece ends with at least *limit* bytes written
   from *at*, or the dict ends (pos -1 then). Returns where it stopped, the offset after the
   last byte written and the pairs written. The pairs are taken (and held) with the GIL, their
   bytes copied without it: the thread that writes the cache after a walk held the GIL ~20 ms
   of L's ~48 in marshal, while the main thread entered the snapshot's rows. *dirs* must not
   change between calls (it is only iterated). */
PyDoc_STRVAR(fill_doc, "fill(dirs, pos, buf, at, limit, piece) -> (pos, end, count)");

typedef struct {
    PyObject *o; /* a bytes object, held */
} held_t;

static PyObject *
fill(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 || !PyDict_Check(args[0]) || !PyByteArray_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "fill(dict, int, bytearray, int, int, int)");
        return NULL;
    }
    PyObject *dirs = args[0], *buf = args[2];
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    Py_ssize_t at = PyLong_AsSsize_t(args[3]);
    Py_ssize_t limit = PyLong_AsSsize_t(args[4]);
    Py_ssize_t piece = PyLong_AsSsize_t(args[5]);
    if (PyErr_Occurred())
        return NULL;
    if (pos < 0 || at < 0 || limit < 0 || piece < 1) {
        PyErr_SetString(PyExc_ValueError, "fill: pos, at, limit >= 0, piece >= 1");
        return NULL;
    }
    held_t *held = NULL;
    Py_ssize_t nheld = 0, room = 0, end = at, count = 0;
    int over = 0;
    PyObject *result = NULL;
    do { /* a piece at a time, its pairs taken (and held) with the GIL */
        for (Py_ssize_t k = 0; k < piece; k++) {
            PyObject *key, *value;
            if (!PyDict_Next(dirs, &pos, &key, &value)) {
                over = 1;
                break;
            }
            if (!PyBytes_CheckExact(key) || !PyBytes_CheckExact(value))
                continue;
            Py_ssize_t kn = PyBytes_GET_SIZE(key), vn = PyBytes_GET_SIZE(value);
            if (kn > INT32_MAX || vn > INT32_MAX) {
                PyErr_SetString(PyExc_ValueError, "fill: a path or record over 2 GiB");
                goto done;
            }
            if (nheld + 2 > room) {
                Py_ssize_t more = room ? 2 * room : 1024;
                held_t *h = PyMem_Realloc(held, more * sizeof(held_t));
                if (h == NULL) {
                    PyErr_NoMemory();
                    goto done;
                }
                held = h;
                room = more;
            }
            Py_INCREF(key);
            held[nheld++].o = key;
            Py_INCREF(value);
            held[nheld++].o = value;
            end += 10 + kn + vn;
            count++;
        }
    } while (!over && end - at < limit);
    if (end > PyByteArray_GET_SIZE(buf) && PyByteArray_Resize(buf, end) < 0)
        goto done;
    Py_buffer view; /* held while the GIL is let go: the bytearray cannot be resized */
    if (PyObject_GetBuffer(buf, &view, PyBUF_WRITABLE) < 0)
        goto done;
    unsigned char *p = (unsigned char *)view.buf + at;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t h = 0; h < nheld; h++) {
        Py_ssize_t n = PyBytes_GET_SIZE(held[h].o);
        *p++ = 's';
        p = st_le(p, (uint64_t)n, 4);
        memcpy(p, PyBytes_AS_STRING(held[h].o), n);
        p += n;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    result = Py_BuildValue("(nnn)", over ? (Py_ssize_t)-1 : pos, end, count);
done:
    for (Py_ssize_t h = 0; h < nheld; h++)
        Py_DECREF(held[h].o);
    PyMem_Free(held);
    return result;
}

/* crc32(data, value=0): zlib.crc32's value (the files cache's check, filescache._check), by
   carry-less multiplication (PCLMULQDQ: the folding of Intel's "Fast CRC Computation for
   Generic Polynomials Using PCLMULQDQ Instruction", the constants of its bit-reflected
   CRC-32, as zlib-ng and Chromium's zlib use them) where the CPU has it, else a byte table.
   zlib 1.2.13's own runs ~3.7 GB/s here: ~6.5 ms over L's 23.6 MB cache at every load (before
   the walk) and again in each whole write. CRC32_CLMUL says whether the fast path runs
   (ctree.crc32 is zlib's when it does not: the table is slower than zlib). */
static uint32_t crc_table[256];
static int crc_clmul;

static void
crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

/* the register (not inverted) after *len* bytes */
static uint32_t
crc_bytes(uint32_t c, const unsigned char *p, size_t len)
{
    while (len--)
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CRC_CLMUL_BUILT 1

/* the register after *len* bytes, len >= 64 and a multiple of 16 */
__attribute__((target("pclmul,sse4.1"))) static uint32_t
crc_fold(uint32_t c, const unsigned char *buf, size_t len)
{
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
    const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124LL);
    const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
    const __m128i mask = _mm_setr_epi32(~0, 0, ~0, 0);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(buf + 0x00));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(buf + 0x10));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(buf + 0x20));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(buf + 0x30));
    __m128i x5, x6, x7, x8;
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)c));
    buf += 64;
    len -= 64;
    while (len >= 64) { /* four lanes of 128 bits folded 512 bits ahead */
        x5 = _mm_clmulepi64_si128(x1, k1k2, 0x00);
        x6 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
        x7 = _mm_clmulepi64_si128(x3, k1k2, 0x00);
        x8 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
        x2 = _mm_clmulepi64_si128(x2, k1k2, 0x11);
        x3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
        x4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), _mm_loadu_si128((const __m128i *)(buf + 0x00)));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), _mm_loadu_si128((const __m128i *)(buf + 0x10)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), _mm_loadu_si128((const __m128i *)(buf + 0x20)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), _mm_loadu_si128((const __m128i *)(buf + 0x30)));
        buf += 64;
        len -= 64;
    }
    /* the four lanes into one */
    x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x2), x5);
    x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x3), x5);
    x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x4), x5);
    while (len >= 16) { /* then 128 bits at a time */
        x2 = _mm_loadu_si128((const __m128i *)buf);
        x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
        x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x2), x5);
        buf += 16;
        len -= 16;
    }
    /* 128 bits to 64, then Barrett's reduction to 32 */
    x2 = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
    x2 = _mm_srli_si128(x1, 4);
    x1 = _mm_and_si128(x1, mask);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k5k0, 0x00), x2);
    x2 = _mm_and_si128(x1, mask);
    x2 = _mm_clmulepi64_si128(x2, poly, 0x10);
    x2 = _mm_and_si128(x2, mask);
    x2 = _mm_clmulepi64_si128(x2, poly, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif

static uint32_t
crc_run(uint32_t value, const unsigned char *p, size_t len)
{
    uint32_t c = ~value;
#ifdef CRC_CLMUL_BUILT
    if (crc_clmul && len >= 64) {
        size_t n = len & ~(size_t)15;
        c = crc_fold(c, p, n);
        p += n;
        len -= n;
    }
#endif
    return ~crc_bytes(c, p, len);
}

/* a buffer this big is summed without the GIL (the cache's writing thread beside the walk) */
#define CRC_NOGIL 65536

PyDoc_STRVAR(crc32_doc, "crc32(data, value=0) -> zlib.crc32(data, value)");

static PyObject *
crc32(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "crc32(data, value=0)");
        return NULL;
    }
    uint32_t value = 0;
    if (nargs == 2) {
        unsigned long v = PyLong_AsUnsignedLongMask(args[1]);
        if (v == (unsigned long)-1 && PyErr_Occurred())
            return NULL;
        value = (uint32_t)v;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *p = view.buf;
    size_t len = (size_t)view.len;
    if (len >= CRC_NOGIL) {
        Py_BEGIN_ALLOW_THREADS
        value = crc_run(value, p, len);
        Py_END_ALLOW_THREADS
    } else {
        value = crc_run(value, p, len);
    }
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(value);
}

/* ---- lstats: a trusted folder's lstats (store/lstats.py: its twin and specification) ---- */
#ifdef __linux__ /* (struct stat's st_atim, and os.stat_result's 19 fields there) */

static PyTypeObject *stat_result; /* os.stat_result: what lstats() gives for each name */

/* A time's nanoseconds as os.stat_result has them (sec * 10**9 + nsec), or NULL with an
   exception; *ns* set to them, or to the int64's nearer bound when they do not fit one (what
   STAT packs: objects.held_ns). */
static PyObject *
time_ns(time_t sec, long nsec, int64_t *ns)
{
    int64_t v;
    if (!__builtin_mul_overflow((int64_t)sec, (int64_t)1000000000, &v) &&
        !__builtin_add_overflow(v, (int64_t)nsec, &v)) {
        *ns = v;
        return PyLong_FromLongLong(v);
    }
    *ns = sec < 0 ? INT64_MIN : INT64_MAX; /* (nsec is never negative) */
    /* (a time past 2262: an exact integer all the same, as os.lstat makes it) */
    PyObject *s = PyLong_FromLongLong((long long)sec), *b = PyLong_FromLong(1000000000);
    PyObject *f = PyLong_FromLong(nsec), *m = NULL, *r = NULL;
    if (s != NULL && b != NULL && f != NULL && (m = PyNumber_Multiply(s, b)) != NULL)
        r = PyNumber_Add(m, f);
    Py_XDECREF(s);
    Py_XDECREF(b);
    Py_XDECREF(f);
    Py_XDECREF(m);
    return r;
}

static PyObject *
id_object(unsigned long long v)
{
    /* uid_t and gid_t as posixmodule's _PyLong_FromUid: (uid_t)-1 is -1 */
    return v == (unsigned long long)(uid_t)-1 ? PyLong_FromLong(-1) : PyLong_FromUnsignedLongLong(v);
}

/* *st* as os.lstat gives it (posixmodule's _pystat_fromstructstat; lstats.py checks every
   field against os.lstat's before this is used), its mtime and ctime in ns into *mt*, *ct*
   (held as time_ns holds them) */
static PyObject *
stat_object(const struct stat *st, int64_t *mt, int64_t *ct)
{
    PyObject *it[19];
    int64_t at;
    it[0] = PyLong_FromLong((long)st->st_mode);
    it[1] = PyLong_FromUnsignedLongLong((unsigned long long)st->st_ino);
    it[2] = PyLong_FromUnsignedLongLong((unsigned long long)st->st_dev);
    it[3] = PyLong_FromLong((long)st->st_nlink);
    it[4] = id_object((unsigned long long)st->st_uid);
    it[5] = id_object((unsigned long long)st->st_gid);
    it[6] = PyLong_FromLongLong((long long)st->st_size);
    it[7] = PyLong_FromLongLong((long long)st->st_atim.tv_sec);
    it[8] = PyLong_FromLongLong((long long)st->st_mtim.tv_sec);
    it[9] = PyLong_FromLongLong((long long)st->st_ctim.tv_sec);
    it[10] = PyFloat_FromDouble(st->st_atim.tv_sec + st->st_atim.tv_nsec * 1e-9);
    it[11] = PyFloat_FromDouble(st->st_mtim.tv_sec + st->st_mtim.tv_nsec * 1e-9);
    it[12] = PyFloat_FromDouble(st->st_ctim.tv_sec + st->st_ctim.tv_nsec * 1e-9);
    it[13] = time_ns(st->st_atim.tv_sec, st->st_atim.tv_nsec, &at);
    it[14] = time_ns(st->st_mtim.tv_sec, st->st_mtim.tv_nsec, mt);
    it[15] = time_ns(st->st_ctim.tv_sec, st->st_ctim.tv_nsec, ct);
    it[16] = PyLong_FromLong((long)st->st_blksize);
    it[17] = PyLong_FromLong((long)st->st_blocks);
    it[18] = PyLong_FromLong((long)st->st_rdev);
    PyObject *v = PyStructSequence_New(stat_result);
    int bad = v == NULL;
    for (int k = 0; k < 19; k++)
        bad |= it[k] == NULL;
    if (bad) {
        for (int k = 0; k < 19; k++)
            Py_XDECREF(it[k]);
        Py_XDECREF(v);
        return NULL;
    }
    for (int k = 0; k < 19; k++)
        PyStructSequence_SET_ITEM(v, k, it[k]);
    return v;
}

PyDoc_STRVAR(lstats_doc,
"lstats(pre, names) -> (packed, stats) | None: os.lstat(pre + name) of each name, and\n"
"filescache.STAT's packing of each (size, mtime_ns, ctime_ns, inode, mode); None when one\n"
"fails (store/lstats.py: the twin).");

static PyObject *
lstats(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (stat_result == NULL) {
        PyErr_SetString(PyExc_NotImplementedError, "lstats: os.stat_result has other fields");
        return NULL;
    }
    if (nargs != 2 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "lstats(pre: bytes, names: list[bytes])");
        return NULL;
    }
    const char *pre = PyBytes_AS_STRING(args[0]);
    size_t plen = (size_t)PyBytes_GET_SIZE(args[0]);
    if (memchr(pre, 0, plen) != NULL) {
        PyErr_SetString(PyExc_ValueError, "embedded null byte");
        return NULL;
    }
    /* (a list as given: the walk's; any other iterable as the twin's loop takes it) */
    PyObject *names = PySequence_Fast(args[1], "lstats: names is not iterable");
    if (names == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(names);
    PyObject **items = PySequence_Fast_ITEMS(names);
    /* every path, NUL-ended, in one buffer: the names are not looked at with the GIL let go */
    size_t total = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyBytes_Check(items[i])) {
            PyErr_SetString(PyExc_TypeError, "lstats: a name is not bytes");
            Py_DECREF(names);
            return NULL;
        }
        size_t len = (size_t)PyBytes_GET_SIZE(items[i]);
        if (memchr(PyBytes_AS_STRING(items[i]), 0, len) != NULL) {
            PyErr_SetString(PyExc_ValueError, "embedded null byte");
            Py_DECREF(names);
            return NULL;
        }
        total += plen + len + 1;
    }
    char *paths = PyMem_Malloc(total);
    struct stat *sts = PyMem_Malloc(sizeof(struct stat) * (size_t)(n > 0 ? n : 1));
    if (paths == NULL || sts == NULL) {
        PyMem_Free(paths);
        PyMem_Free(sts);
        Py_DECREF(names);
        return PyErr_NoMemory();
    }
    char *p = paths;
    for (Py_ssize_t i = 0; i < n; i++) {
        size_t len = (size_t)PyBytes_GET_SIZE(items[i]);
        memcpy(p, pre, plen);
        memcpy(p + plen, PyBytes_AS_STRING(items[i]), len);
        p[plen + len] = 0;
        p += plen + len + 1;
    }
    Py_DECREF(names);
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    p = paths;
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        failed = lstat(p, &sts[i]) != 0;
        p += strlen(p) + 1;
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(paths);
    if (failed) { /* gone since, or no folder now: listed */
        PyMem_Free(sts);
        Py_RETURN_NONE;
    }
    PyObject *packed = PyBytes_FromStringAndSize(NULL, STAT_SIZE * n);
    PyObject *list = PyList_New(n);
    if (packed == NULL || list == NULL)
        goto fail;
    unsigned char *q = (unsigned char *)PyBytes_AS_STRING(packed);
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t mt, ct;
        PyObject *o = stat_object(&sts[i], &mt, &ct);
        if (o == NULL)
            goto fail;
        PyList_SET_ITEM(list, i, o);
        q = st_le(q, (uint64_t)(int64_t)sts[i].st_size, 8);
        q = st_le(q, (uint64_t)mt, 8);
        q = st_le(q, (uint64_t)ct, 8);
        q = st_le(q, (uint64_t)sts[i].st_ino, 8);
        q = st_le(q, (uint64_t)sts[i].st_mode, 8);
    }
    PyMem_Free(sts);
    return Py_BuildValue("(NN)", packed, list);
fail:
    PyMem_Free(sts);
    Py_XDECREF(packed);
    Py_XDECREF(list);
    return NULL;
}

/* os.stat_result, if it has the fields stat_object() fills (else NULL: no lstats) */
static PyTypeObject *
stat_type(void)
{
    PyObject *os = PyImport_ImportModule("os");
    PyObject *t = os != NULL ? PyObject_GetAttrString(os, "stat_result") : NULL;
    Py_XDECREF(os);
    if (t == NULL) {
        PyErr_Clear(); /* (no lstats: the twin runs) */
        return NULL;
    }
    const char *attrs[] = {"n_fields", "n_sequence_fields", "n_unnamed_fields"};
    const long want[] = {19, 10, 3};
    int ok = PyType_Check(t);
    for (int k = 0; k < 3 && ok; k++) {
        PyObject *v = PyObject_GetAttrString(t, attrs[k]);
        ok = v != NULL && PyLong_Check(v) && PyLong_AsLong(v) == want[k];
        Py_XDECREF(v);
    }
    PyErr_Clear();
    if (!ok)
        Py_CLEAR(t);
    return (PyTypeObject *)t;
}
#endif

PyDoc_STRVAR(entries_doc,
"entries(data, entry_type) -> (list, int) | None\n\n"
"validate._entries in C: the entries of a tree's bytes (after its magic) made as tuples of\n"
"entry_type (objects.Entry), and where the last one ends (past the end when the bytes are\n"
"cut short within a name or reference: those are cut as slices are); None when they are cut\n"
"within a header.");

static PyObject *
entries(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyBytes_Check(args[0]) || !PyType_Check(args[1]) ||
        !PyType_IsSubtype((PyTypeObject *)args[1], &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "entries(data: bytes, entry_type: a tuple type)");
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)args[1];
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t end = PyBytes_GET_SIZE(args[0]);
    Py_ssize_t pos = TREE_MAGIC_LEN;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    while (pos < end) {
        if (end - pos < ENTRY_HEAD) {
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        const unsigned char *h = data + pos;
        uint32_t mode = (uint32_t)h[3] | (uint32_t)h[4] << 8 | (uint32_t)h[5] << 16 |
                        (uint32_t)h[6] << 24;
        int64_t mtime = (int64_t)ld64(h + 7);
        uint64_t size = ld64(h + 15);
        Py_ssize_t nlen = (Py_ssize_t)h[23] | (Py_ssize_t)h[24] << 8;
        Py_ssize_t rlen = (Py_ssize_t)((uint32_t)h[25] | (uint32_t)h[26] << 8 |
                                       (uint32_t)h[27] << 16 | (uint32_t)h[28] << 24);
        Py_ssize_t at = pos + ENTRY_HEAD;
        Py_ssize_t ref_at = at + nlen;
        pos = ref_at + rlen;
        Py_ssize_t name_end = ref_at < end ? ref_at : end;
        Py_ssize_t ref_end = pos < end ? pos : end;
        PyObject *e = type->tp_alloc(type, 8);
        if (e == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyObject *items[8] = {
            PyBytes_FromStringAndSize((const char *)data + at, name_end - at),
            PyLong_FromLong(h[0]),
            PyLong_FromUnsignedLong(mode),
            PyLong_FromLongLong(mtime),
            PyLong_FromUnsignedLongLong(size),
            PyBytes_FromStringAndSize((const char *)data + name_end, ref_end - name_end),
            PyLong_FromLong(h[1]),
            PyLong_FromLong(h[2]),
        };
        int failed = 0;
        for (int k = 0; k < 8; k++) {
            if (items[k] == NULL)
                failed = 1;
            PyTuple_SET_ITEM(e, k, items[k]);
        }
        if (failed || PyList_Append(out, e) < 0) { /* (the items are the tuple's) */
            Py_DECREF(e);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(e);
    }
    return Py_BuildValue("(Nn)", out, pos);
}

PyDoc_STRVAR(plan_tree_doc,
"plan_tree(data, path, shared, whole) -> (subs, files, small, want) | None\n\n"
"A restore's plan of one tree's bytes (restore_plan._plan_tree_py, its specification): None\n"
"unless validate.checked accepts them as they are (else the caller checks them the slow way,\n"
"which names the problem); then no entry is made: its folders as (key, path + name + '/'),\n"
"the count of its other entries, the keys of its files of at most shared bytes, and those of\n"
"at most whole bytes (none for a whole below 0).");

#define SYMLINK_KIND 3
#define MAX_NAME 255
#define MAX_LINK 4095
#define MODE_BITS 07777

static PyObject *
plan_tree(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyBytes_Check(args[0]) || !PyBytes_Check(args[1]) ||
        !PyLong_Check(args[2]) || !PyLong_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "plan_tree(data: bytes, path: bytes, shared: int, whole: int)");
        return NULL;
    }
    long long shared_ll = PyLong_AsLongLong(args[2]);
    long long whole_ll = PyLong_AsLongLong(args[3]);
    if ((shared_ll == -1 || whole_ll == -1) && PyErr_Occurred())
        return NULL;
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t end = PyBytes_GET_SIZE(args[0]);
    const char *path = PyBytes_AS_STRING(args[1]);
    Py_ssize_t plen = PyBytes_GET_SIZE(args[1]);
    if (end < TREE_MAGIC_LEN || memcmp(data, TREE_MAGIC, TREE_MAGIC_LEN) != 0)
        Py_RETURN_NONE;
    /* first pass: what validate.checked looks at, nothing made */
    Py_ssize_t pos = TREE_MAGIC_LEN;
    const unsigned char *prev = NULL;
    Py_ssize_t prev_len = 0;
    while (pos < end) {
        if (end - pos < ENTRY_HEAD)
            Py_RETURN_NONE; /* cut within a header */
        const unsigned char *h = data + pos;
        unsigned kind = h[0];
        uint32_t mode = (uint32_t)h[3] | (uint32_t)h[4] << 8 | (uint32_t)h[5] << 16 |
                        (uint32_t)h[6] << 24;
        uint64_t size = ld64(h + 15);
        Py_ssize_t nlen = (Py_ssize_t)h[23] | (Py_ssize_t)h[24] << 8;
        uint32_t rlen = (uint32_t)h[25] | (uint32_t)h[26] << 8 | (uint32_t)h[27] << 16 |
                        (uint32_t)h[28] << 24;
        Py_ssize_t at = pos + ENTRY_HEAD;
        if ((uint64_t)(end - at) < (uint64_t)nlen + rlen)
            Py_RETURN_NONE; /* cut within a name or reference */
        const unsigned char *name = data + at;
        const unsigned char *ref = name + nlen;
        if (nlen == 0 || nlen > MAX_NAME || mode > MODE_BITS)
            Py_RETURN_NONE;
        if (memchr(name, '/', (size_t)nlen) != NULL || memchr(name, 0, (size_t)nlen) != NULL)
            Py_RETURN_NONE;
        if (name[0] == '.' && (nlen == 1 || (nlen == 2 && name[1] == '.')))
            Py_RETURN_NONE;
        if (prev != NULL) { /* sorted and unique, as bytes compare */
            Py_ssize_t n = prev_len < nlen ? prev_len : nlen;
            int c = memcmp(prev, name, (size_t)n);
            if (c > 0 || (c == 0 && prev_len >= nlen))
                Py_RETURN_NONE;
        }
        if (kind == FILE_KIND || kind == DIR_KIND) {
            if (rlen != KEY_SIZE)
                Py_RETURN_NONE;
        }
        else if (kind == SYMLINK_KIND) {
            if (rlen == 0 || rlen > MAX_LINK || size != rlen ||
                memchr(ref, 0, (size_t)rlen) != NULL)
                Py_RETURN_NONE;
        }
        else
            Py_RETURN_NONE;
        prev = name;
        prev_len = nlen;
        pos = at + nlen + (Py_ssize_t)rlen;
    }
    /* second pass: the answer */
    PyObject *subs = PyList_New(0);
    PyObject *small = PyList_New(0);
    PyObject *want = PyList_New(0);
    Py_ssize_t files = 0;
    if (subs == NULL || small == NULL || want == NULL)
        goto fail;
    pos = TREE_MAGIC_LEN;
    while (pos < end) {
        const unsigned char *h = data + pos;
        unsigned kind = h[0];
        uint64_t size = ld64(h + 15);
        Py_ssize_t nlen = (Py_ssize_t)h[23] | (Py_ssize_t)h[24] << 8;
        Py_ssize_t at = pos + ENTRY_HEAD;
        const char *name = (const char *)data + at;
        const char *ref = name + nlen;
        uint32_t rlen = (uint32_t)h[25] | (uint32_t)h[26] << 8 | (uint32_t)h[27] << 16 |
                        (uint32_t)h[28] << 24;
        pos = at + nlen + (Py_ssize_t)rlen;
        if (kind == DIR_KIND) {
            PyObject *sub = PyBytes_FromStringAndSize(NULL, plen + nlen + 1);
            if (sub == NULL)
                goto fail;
            char *p = PyBytes_AS_STRING(sub);
            memcpy(p, path, (size_t)plen);
            memcpy(p + plen, name, (size_t)nlen);
            p[plen + nlen] = '/';
            PyObject *pair = Py_BuildValue("(y#N)", ref, (Py_ssize_t)KEY_SIZE, sub);
            if (pair == NULL || PyList_Append(subs, pair) < 0) {
                Py_XDECREF(pair);
                goto fail;
            }
            Py_DECREF(pair);
            continue;
        }
        files++;
        if (kind != FILE_KIND)
            continue;
        int is_small = shared_ll >= 0 && size <= (uint64_t)shared_ll;
        int is_whole = whole_ll >= 0 && size <= (uint64_t)whole_ll;
        if (!is_small && !is_whole)
            continue;
        PyObject *key = PyBytes_FromStringAndSize(ref, KEY_SIZE);
        if (key == NULL)
            goto fail;
        if ((is_small && PyList_Append(small, key) < 0) ||
            (is_whole && PyList_Append(want, key) < 0)) {
            Py_DECREF(key);
            goto fail;
        }
        Py_DECREF(key);
    }
    return Py_BuildValue("(NnNN)", subs, files, small, want);
fail:
    Py_XDECREF(subs);
    Py_XDECREF(small);
    Py_XDECREF(want);
    return NULL;
}

PyDoc_STRVAR(gather_doc,
"gather(entries, folder, rel, locs, whole) -> (items, subs, size, located) | None\n\n"
"restorer._gather_py in C (its specification): a restore's folder made here, its entries\n"
"(objects.Entry) split into the files for a writer's job, each as (location, folder, entry,\n"
"rel + its name) with its location from locs (a dict, or anything with get) when that holds the\n"
"file's size, else None; its folders (subs); the files' names' and keys' bytes; and\n"
"whether every file was located. None when the folder holds .git, a symlink, a file over\n"
"whole bytes or one with set-id bits: it goes the way of one entry at a time.");

static PyObject *
gather(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyList_Check(args[0]) || !PyLong_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "gather(entries: list, folder, rel, locs, whole: int)");
        return NULL;
    }
    PyObject *list = args[0], *folder = args[1], *rel = args[2], *locs = args[3];
    PyObject *whole = args[4];
    int is_dict = PyDict_CheckExact(locs);
    PyObject *get = NULL;
    if (!is_dict) {
        get = PyObject_GetAttrString(locs, "get");
        if (get == NULL)
            return NULL;
    }
    PyObject *items = PyList_New(0);
    PyObject *subs = PyList_New(0);
    Py_ssize_t size = 0;
    int located = 1;
    /* the entry looked at, held: locs.get is Python code, which may change the list (its
       length read again at each step, as the twin's for loop does) */
    PyObject *e = NULL;
    if (items == NULL || subs == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        e = Py_NewRef(PyList_GET_ITEM(list, i));
        if (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) < 6 ||
            !PyBytes_Check(PyTuple_GET_ITEM(e, 0)) || !PyBytes_Check(PyTuple_GET_ITEM(e, 5))) {
            PyErr_SetString(PyExc_TypeError, "gather: an entry is no Entry");
            goto fail;
        }
        PyObject *name = PyTuple_GET_ITEM(e, 0), *ref = PyTuple_GET_ITEM(e, 5);
        if (PyBytes_GET_SIZE(name) == 4 && memcmp(PyBytes_AS_STRING(name), ".git", 4) == 0)
            goto slow;
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(e, 1));
        if (kind == -1 && PyErr_Occurred())
            goto fail;
        if (kind == DIR_KIND) {
            if (PyList_Append(subs, e) < 0)
                goto fail;
            Py_CLEAR(e);
            continue;
        }
        if (kind != FILE_KIND)
            goto slow;
        long mode = PyLong_AsLong(PyTuple_GET_ITEM(e, 2));
        if (mode == -1 && PyErr_Occurred())
            goto fail;
        if (mode & 06000)
            goto slow;
        PyObject *esize = PyTuple_GET_ITEM(e, 4);
        int big = PyObject_RichCompareBool(esize, whole, Py_GT);
        if (big < 0)
            goto fail;
        if (big)
            goto slow;
        PyObject *loc; /* a new reference */
        if (is_dict) {
            loc = PyDict_GetItemWithError(locs, ref);
            if (loc == NULL && PyErr_Occurred())
                goto fail;
            Py_XINCREF(loc);
        } else {
            loc = PyObject_CallOneArg(get, ref);
            if (loc == NULL)
                goto fail;
            if (loc == Py_None)
                Py_CLEAR(loc);
        }
        if (loc != NULL) {
            int same = 0;
            if (PyTuple_Check(loc) && PyTuple_GET_SIZE(loc) >= 4) {
                same = PyObject_RichCompareBool(PyTuple_GET_ITEM(loc, 3), esize, Py_EQ);
                if (same < 0) {
                    Py_DECREF(loc);
                    goto fail;
                }
            }
            if (!same)
                Py_CLEAR(loc);
        }
        if (loc == NULL) {
            located = 0;
            loc = Py_NewRef(Py_None);
        }
        /* its path: rel + name (the twin's +: joined here for two exact bytes) */
        PyObject *path;
        if (PyBytes_CheckExact(rel) && PyBytes_CheckExact(name)) {
            Py_ssize_t rlen = PyBytes_GET_SIZE(rel), nlen = PyBytes_GET_SIZE(name);
            path = PyBytes_FromStringAndSize(NULL, rlen + nlen);
            if (path != NULL) {
                memcpy(PyBytes_AS_STRING(path), PyBytes_AS_STRING(rel), (size_t)rlen);
                memcpy(PyBytes_AS_STRING(path) + rlen, PyBytes_AS_STRING(name), (size_t)nlen);
            }
        }
        else
            path = PyNumber_Add(rel, name);
        if (path == NULL) {
            Py_DECREF(loc);
            goto fail;
        }
        PyObject *item = PyTuple_Pack(4, loc, folder, e, path);
        Py_DECREF(loc);
        Py_DECREF(path);
        if (item == NULL)
            goto fail;
        int bad = PyList_Append(items, item);
        Py_DECREF(item);
        if (bad < 0)
            goto fail;
        size += PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(ref);
        Py_CLEAR(e);
    }
    Py_XDECREF(get);
    return Py_BuildValue("(NNnO)", items, subs, size, located ? Py_True : Py_False);
slow:
    Py_DECREF(e);
    Py_XDECREF(get);
    Py_DECREF(items);
    Py_DECREF(subs);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(e);
    Py_XDECREF(get);
    Py_XDECREF(items);
    Py_XDECREF(subs);
    return NULL;
}

PyDoc_STRVAR(in_storage_order_doc,
"in_storage_order(items) -> list | None\n\n"
"sorted(items, key=itemgetter(0)) for a restore's job (restorer._in_storage_order_py, its\n"
"specification): items whose first field is a location (pack: str, offset, length, size,\n"
"place in its group: ints), ordered as those tuples compare, equal ones kept in their\n"
"order. None when a location is of another shape (the caller sorts them).");

typedef struct {
    PyObject *pack;
    long long at[4];
    Py_ssize_t i;
} loc_key;

static int
loc_cmp(const void *a, const void *b)
{
    const loc_key *x = a, *y = b;
    if (x->pack != y->pack) {
        int c = PyUnicode_Compare(x->pack, y->pack); /* (str: never an error) */
        if (c)
            return c;
    }
    for (int k = 0; k < 4; k++)
        if (x->at[k] != y->at[k])
            return x->at[k] < y->at[k] ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static PyObject *
in_storage_order(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "in_storage_order(items: list)");
        return NULL;
    }
    PyObject *items = args[0];
    Py_ssize_t n = PyList_GET_SIZE(items);
    loc_key *keys = PyMem_Malloc((n ? n : 1) * sizeof(loc_key));
    if (keys == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) < 1)
            goto other;
        PyObject *loc = PyTuple_GET_ITEM(item, 0);
        if (!PyTuple_CheckExact(loc) || PyTuple_GET_SIZE(loc) != 5 ||
            !PyUnicode_CheckExact(PyTuple_GET_ITEM(loc, 0)))
            goto other;
        keys[i].pack = PyTuple_GET_ITEM(loc, 0);
        keys[i].i = i;
        for (int k = 0; k < 4; k++) {
            PyObject *v = PyTuple_GET_ITEM(loc, k + 1);
            if (!PyLong_CheckExact(v))
                goto other;
            int overflow = 0;
            keys[i].at[k] = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (overflow)
                goto other;
        }
    }
    qsort(keys, (size_t)n, sizeof(loc_key), loc_cmp);
    PyObject *out = PyList_New(n);
    if (out == NULL) {
        PyMem_Free(keys);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(items, keys[i].i);
        Py_INCREF(item);
        PyList_SET_ITEM(out, i, item);
    }
    PyMem_Free(keys);
    return out;
other:
    PyMem_Free(keys);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(share_out_doc,
"share_out(ready, load, owner, nowhere, file_cost) -> list\n\n"
"restore_write._share_out_py in C (its specification): a job's items (location first)\n"
"split between the writers: a group's members (place >= 0) to the writer owner names for\n"
"(pack, offset), else a new group, a single frame and a symlink (nowhere, or None) to the\n"
"first least loaded; load (a list of ints: one per writer) and owner updated. None, nothing\n"
"changed, for what its loop does not hold as the twin does (share_out_holds: the caller\n"
"runs the twin).");

/* Whether share_out's loop holds *ready* and *loadl* as the twin does: each location
   nowhere, None or a tuple of an exact str and exact ints (no Python code runs in the
   loop), the loads and sizes ints from 0 whose sums stay within a long long (where the
   twin's ints grow). Else the caller runs the twin, nothing changed yet. */
static int
share_out_holds(PyObject *ready, PyObject *loadl, PyObject *nowhere, long long cost)
{
    long long most = 0, total = 0;
    if (cost < 0)
        return 0;
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(loadl); j++) {
        PyObject *v = PyList_GET_ITEM(loadl, j);
        int over = 0;
        long long x = PyLong_CheckExact(v) ? PyLong_AsLongLongAndOverflow(v, &over) : -1;
        if (over || x < 0)
            return 0;
        if (x > most)
            most = x;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ready); i++) {
        PyObject *item = PyList_GET_ITEM(ready, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) < 1)
            return 0;
        PyObject *loc = PyTuple_GET_ITEM(item, 0);
        long long size = 0;
        if (loc != nowhere && loc != Py_None) {
            if (!PyTuple_CheckExact(loc) || PyTuple_GET_SIZE(loc) < 5 ||
                !PyUnicode_CheckExact(PyTuple_GET_ITEM(loc, 0)))
                return 0;
            for (int f = 1; f < 5; f++)
                if (!PyLong_CheckExact(PyTuple_GET_ITEM(loc, f)))
                    return 0;
            int over = 0, over_size = 0;
            PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(loc, 4), &over);
            size = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(loc, 3), &over_size);
            if (over || over_size || size < 0)
                return 0;
        }
        if (__builtin_add_overflow(total, size, &total) ||
            __builtin_add_overflow(total, cost, &total))
            return 0;
    }
    return !__builtin_add_overflow(most, total, &most);
}

static PyObject *
share_out(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyList_Check(args[0]) || !PyList_Check(args[1]) ||
        !PyDict_Check(args[2]) || PyList_GET_SIZE(args[1]) < 1) {
        PyErr_SetString(PyExc_TypeError,
                        "share_out(ready: list, load: list, owner: dict, nowhere, file_cost)");
        return NULL;
    }
    PyObject *ready = args[0], *loadl = args[1], *owner = args[2], *nowhere = args[3];
    long long cost = PyLong_AsLongLong(args[4]);
    if (cost == -1 && PyErr_Occurred())
        return NULL;
    if (!share_out_holds(ready, loadl, nowhere, cost))
        Py_RETURN_NONE;
    Py_ssize_t w = PyList_GET_SIZE(loadl);
    long long *load = PyMem_Malloc(w * sizeof(long long));
    PyObject *parts = PyList_New(w);
    PyObject *pack = NULL, *at = NULL; /* the group of the last member (borrowed) */
    PyObject *item = NULL; /* held: an allocation may run Python code (a collection) */
    Py_ssize_t k = 0;
    if (load == NULL || parts == NULL)
        goto fail;
    for (Py_ssize_t j = 0; j < w; j++) {
        load[j] = PyLong_AsLongLong(PyList_GET_ITEM(loadl, j));
        if (load[j] == -1 && PyErr_Occurred())
            goto fail;
        PyObject *part = PyList_New(0);
        if (part == NULL)
            goto fail;
        PyList_SET_ITEM(parts, j, part);
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ready); i++) {
        item = Py_NewRef(PyList_GET_ITEM(ready, i));
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) < 1) {
            PyErr_SetString(PyExc_TypeError, "share_out: an item is no tuple");
            goto fail;
        }
        PyObject *loc = PyTuple_GET_ITEM(item, 0);
        if (loc == nowhere || loc == Py_None) {
            k = 0;
            for (Py_ssize_t j = 1; j < w; j++)
                if (load[j] < load[k])
                    k = j;
            load[k] += cost;
        } else {
            if (!PyTuple_Check(loc) || PyTuple_GET_SIZE(loc) < 5) {
                PyErr_SetString(PyExc_TypeError, "share_out: a location is no 5-tuple");
                goto fail;
            }
            long long inner = PyLong_AsLongLong(PyTuple_GET_ITEM(loc, 4));
            if (inner == -1 && PyErr_Occurred())
                goto fail;
            if (inner < 0) {
                k = 0;
                for (Py_ssize_t j = 1; j < w; j++)
                    if (load[j] < load[k])
                        k = j;
            } else {
                int same = 0;
                if (pack != NULL) {
                    same = PyObject_RichCompareBool(PyTuple_GET_ITEM(loc, 1), at, Py_EQ);
                    if (same > 0)
                        same = PyObject_RichCompareBool(PyTuple_GET_ITEM(loc, 0), pack, Py_EQ);
                    if (same < 0)
                        goto fail;
                }
                if (!same) {
                    pack = PyTuple_GET_ITEM(loc, 0);
                    at = PyTuple_GET_ITEM(loc, 1);
                    PyObject *key = PyTuple_Pack(2, pack, at);
                    if (key == NULL)
                        goto fail;
                    PyObject *got = PyDict_GetItemWithError(owner, key); /* borrowed */
                    if (got == NULL && PyErr_Occurred()) {
                        Py_DECREF(key);
                        goto fail;
                    }
                    if (got == NULL) {
                        k = 0;
                        for (Py_ssize_t j = 1; j < w; j++)
                            if (load[j] < load[k])
                                k = j;
                        PyObject *kk = PyLong_FromSsize_t(k);
                        int bad = kk == NULL || PyDict_SetItem(owner, key, kk) < 0;
                        Py_XDECREF(kk);
                        Py_DECREF(key);
                        if (bad)
                            goto fail;
                    } else {
                        Py_DECREF(key);
                        Py_ssize_t g = PyLong_AsSsize_t(got);
                        if (g == -1 && PyErr_Occurred())
                            goto fail;
                        if (g < 0)
                            g += w;
                        if (g < 0 || g >= w) {
                            PyErr_SetString(PyExc_IndexError, "list index out of range");
                            goto fail;
                        }
                        k = g;
                    }
                }
            }
            long long size = PyLong_AsLongLong(PyTuple_GET_ITEM(loc, 3));
            if (size == -1 && PyErr_Occurred())
                goto fail;
            load[k] += size + cost;
        }
        if (PyList_Append(PyList_GET_ITEM(parts, k), item) < 0)
            goto fail;
        Py_CLEAR(item);
    }
    for (Py_ssize_t j = 0; j < w; j++) {
        PyObject *v = PyLong_FromLongLong(load[j]);
        if (v == NULL)
            goto fail;
        if (PyList_SetItem(loadl, j, v) < 0)
            goto fail;
    }
    PyMem_Free(load);
    return parts;
fail:
    Py_XDECREF(item);
    PyMem_Free(load);
    Py_XDECREF(parts);
    return NULL;
}

PyDoc_STRVAR(work_doc,
"work(ready, number, nowhere) -> list | None\n\n"
"restore_write._work_py in C (its specification): the job a writer gets from a job's items\n"
"(location, folder, entry, path): for each, (its folder's fd, or number[fd] when number is\n"
"a dict, name, mode, mtime_ns, ref, location or None where it is nowhere). None, nothing\n"
"looked at further, for what the twin may read otherwise: ready no list, number neither\n"
"None nor a dict, an item or entry that is no tuple of its shape, an entry whose class\n"
"has its own __getitem__ (the caller runs the twin); number's KeyError as the twin raises\n"
"it. The items are held while a folder's fd is read (an attribute may run code).");

static PyObject *
work(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "work(ready: list, number: dict | None, nowhere)");
        return NULL;
    }
    PyObject *number = args[1], *nowhere = args[2];
    if (!PyList_CheckExact(args[0]) || (number != Py_None && !PyDict_CheckExact(number)))
        Py_RETURN_NONE;
    /* the items held (a tuple of them): the fd attribute may run code that changes the list */
    PyObject *ready = PyList_AsTuple(args[0]);
    if (ready == NULL)
        return NULL;
    binaryfunc subscript = PyTuple_Type.tp_as_mapping->mp_subscript;
    Py_ssize_t n = PyTuple_GET_SIZE(ready);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(ready, i);
        PyObject *e = PyTuple_CheckExact(item) && PyTuple_GET_SIZE(item) == 4
                          ? PyTuple_GET_ITEM(item, 2)
                          : NULL;
        if (e == NULL || !PyTuple_Check(e) || PyTuple_GET_SIZE(e) < 6 ||
            Py_TYPE(e)->tp_as_mapping == NULL ||
            Py_TYPE(e)->tp_as_mapping->mp_subscript != subscript) {
            Py_DECREF(ready);
            Py_RETURN_NONE;
        }
    }
    PyObject *fd_name = PyUnicode_InternFromString("fd");
    PyObject *out = fd_name == NULL ? NULL : PyList_New(n);
    PyObject *dir = NULL, *fd = NULL; /* the last folder and its fd (held) */
    if (out == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(ready, i);
        PyObject *d = PyTuple_GET_ITEM(item, 1);
        if (d != dir) {
            Py_CLEAR(fd);
            Py_XSETREF(dir, Py_NewRef(d));
            PyObject *got = PyObject_GetAttr(d, fd_name);
            if (got == NULL)
                goto fail;
            if (number != Py_None) {
                PyObject *k = PyDict_GetItemWithError(number, got);
                if (k == NULL) {
                    if (!PyErr_Occurred())
                        PyErr_SetObject(PyExc_KeyError, got);
                    Py_DECREF(got);
                    goto fail;
                }
                Py_INCREF(k); /* (before got goes: its end may run code) */
                Py_SETREF(got, k);
            }
            fd = got;
        }
        PyObject *e = PyTuple_GET_ITEM(item, 2), *loc = PyTuple_GET_ITEM(item, 0);
        PyObject *w = PyTuple_Pack(6, fd, PyTuple_GET_ITEM(e, 0), PyTuple_GET_ITEM(e, 2),
                                   PyTuple_GET_ITEM(e, 3), PyTuple_GET_ITEM(e, 5),
                                   loc == nowhere ? Py_None : loc);
        if (w == NULL)
            goto fail;
        PyList_SET_ITEM(out, i, w);
    }
    Py_XDECREF(dir);
    Py_XDECREF(fd);
    Py_DECREF(fd_name);
    Py_DECREF(ready);
    return out;
fail:
    Py_XDECREF(dir);
    Py_XDECREF(fd);
    Py_XDECREF(out);
    Py_XDECREF(fd_name);
    Py_DECREF(ready);
    return NULL;
}

static PyMethodDef methods[] = {
    {"build", (PyCFunction)(void (*)(void))build, METH_FASTCALL, build_doc},
    {"fill", (PyCFunction)(void (*)(void))fill, METH_FASTCALL, fill_doc},
    {"crc32", (PyCFunction)(void (*)(void))crc32, METH_FASTCALL, crc32_doc},
    {"entries", (PyCFunction)(void (*)(void))entries, METH_FASTCALL, entries_doc},
    {"gather", (PyCFunction)(void (*)(void))gather, METH_FASTCALL, gather_doc},
    {"plan_tree", (PyCFunction)(void (*)(void))plan_tree, METH_FASTCALL, plan_tree_doc},
    {"in_storage_order", (PyCFunction)(void (*)(void))in_storage_order, METH_FASTCALL,
     in_storage_order_doc},
    {"share_out", (PyCFunction)(void (*)(void))share_out, METH_FASTCALL, share_out_doc},
    {"work", (PyCFunction)(void (*)(void))work, METH_FASTCALL, work_doc},
#ifdef __linux__
    {"lstats", (PyCFunction)(void (*)(void))lstats, METH_FASTCALL, lstats_doc},
#endif
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ctree",
    "A changed folder's tree and files-cache record built in C (store/ctree_py.py: its twin).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__ctree(void)
{
    PyObject *st = PyImport_ImportModule("struct");
    if (st == NULL)
        return NULL;
    struct_error = PyObject_GetAttrString(st, "error");
    Py_DECREF(st);
    if (struct_error == NULL)
        return NULL;
#ifdef __linux__
    stat_result = stat_type();
#endif
    crc_init();
#ifdef CRC_CLMUL_BUILT
    __builtin_cpu_init();
    crc_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    /* the sizes it was written for (tests/test_ctree.py compares them with the formats') */
    if (PyModule_AddStringConstant(m, "SOURCE_SHA256", GS_CTREE_SOURCE_SHA256) < 0 ||
        PyModule_AddIntConstant(m, "INTERFACE", INTERFACE) < 0 ||
        PyModule_AddIntConstant(m, "RECORD_HEAD", REC_HEAD) < 0 ||
        PyModule_AddIntConstant(m, "STAT_SIZE", STAT_SIZE) < 0 ||
        PyModule_AddIntConstant(m, "KEY_SIZE", KEY_SIZE) < 0 ||
        PyModule_AddIntConstant(m, "ENTRY_HEAD", ENTRY_HEAD) < 0 ||
        PyModule_AddIntConstant(m, "CRC32_CLMUL", crc_clmul) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
