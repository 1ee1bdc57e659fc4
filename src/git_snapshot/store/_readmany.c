/* A folder's small files read whole and hashed in one call that lets go of the GIL once: the
 * C twin of store/readmany_py.py (its specification; the tests compare the two).
 *
 * read(pre, names, stats, which, start, budget) takes the entries which[start], which[start+1],
 * ... (indices into names and stats) while the listed sizes of the regular files among them add
 * up to at most budget bytes, up to the next folder (the walk walks it before it takes the
 * entries after it: a batch is never held while a subfolder is walked), always one at least,
 * and answers each, in that order, with (content, SHA-256) when it was
 * as listed: opened as store/reading.open_file opens (never through a symlink, never waiting
 * on a FIFO, O_NOATIME when allowed), one read of its listed size plus one byte that gave
 * exactly that size, then fstat giving the listed device, inode, mode, size, mtime_ns and
 * ctime_ns (reading._read_listed's checks). Anything else (an error of any system call, a
 * file not listed as a regular one or listed None, a size over the budget, a name with a NUL, a stat field
 * no file has) is None, unopened when the listing says so: the caller
 * reads that file the careful way, which names what went wrong. Built by setup.py with
 * optional=True and -lcrypto: without OpenSSL's headers it is not built and the walk reads
 * in Python. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define INTERFACE 2
#define STAT_SIZE 40 /* filescache.STAT: size, mtime_ns, ctime_ns, inode, mode */
#define MAX_BUDGET (1LL << 30)
#define DIGEST 32

#ifndef GS_READMANY_SOURCE_SHA256
#define GS_READMANY_SOURCE_SHA256 "unknown"
#endif

#ifndef O_NOATIME
#define O_NOATIME 0
#endif

typedef struct {
    PyObject *name;    /* owned: its bytes stay while the GIL is let go */
    PyObject *buf;     /* owned: listed size + 1 bytes, the read's room */
    long long size, mtime, ctime;
    unsigned long long ino, dev, mode;
    int folder;        /* listed as a folder (its fields ones a file can have) */
    int tried;         /* a regular file within the budget (ditto): open it */
    int ok;
    unsigned char md[DIGEST];
} item_t;

static const EVP_MD *sha256_md;
static PyObject *s_size, *s_mtime, *s_ctime, *s_ino, *s_dev, *s_mode;

/* The int attribute *attr* of *st* (a new reference), or NULL with an error set */
static PyObject *int_field(PyObject *st, PyObject *attr) {
    PyObject *o = PyObject_GetAttr(st, attr);
    if (o != NULL && !PyLong_CheckExact(o)) {
        Py_DECREF(o);
        PyErr_SetString(PyExc_TypeError, "a stat field that is not an int");
        return NULL;
    }
    return o;
}

/* -1: an error set; 0: *v holds the field; 1: no file has that value (the item is not read) */
static int signed_field(PyObject *st, PyObject *attr, long long *v) {
    PyObject *o = int_field(st, attr);
    if (o == NULL)
        return -1;
    int overflow = 0;
    *v = PyLong_AsLongLongAndOverflow(o, &overflow);
    Py_DECREF(o);
    if (*v == -1 && PyErr_Occurred())
        return -1;
    return overflow != 0;
}

static int unsigned_field(PyObject *st, PyObject *attr, unsigned long long *v) {
    PyObject *o = int_field(st, attr);
    if (o == NULL)
        return -1;
    *v = PyLong_AsUnsignedLongLong(o);
    Py_DECREF(o);
    if (*v == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear(); /* negative or too big: no file's */
        return 1;
    }
    return 0;
}

/* The listed stat of *st* into *x*: -1 an error set, 0 done (x->tried says whether to read) */
static int listed(PyObject *st, item_t *x, long long budget) {
    PyObject *signed_names[3] = {s_size, s_mtime, s_ctime};
    long long *signed_values[3] = {&x->size, &x->mtime, &x->ctime};
    PyObject *unsigned_names[3] = {s_ino, s_dev, s_mode};
    unsigned long long *unsigned_values[3] = {&x->ino, &x->dev, &x->mode};
    int r, no = 0;
    for (int k = 0; k < 3; k++) {
        if ((r = signed_field(st, signed_names[k], signed_values[k])) < 0)
            return -1;
        no |= r;
    }
    for (int k = 0; k < 3; k++) {
        if ((r = unsigned_field(st, unsigned_names[k], unsigned_values[k])) < 0)
            return -1;
        no |= r;
    }
    x->folder = !no && S_ISDIR(x->mode);
    x->tried = !no && S_ISREG(x->mode) && x->size >= 0 && x->size <= budget;
    return 0;
}

static int open_listed(const char *path) {
    int fd;
    do
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
    while (fd < 0 && errno == EINTR);
    if (fd < 0 && (errno == EPERM || errno == EACCES) && O_NOATIME) {
        do /* O_NOATIME needs ownership */
            fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
    }
    return fd;
}

/* One item, without the GIL: read, fstat, checked against the listed stat, hashed */
static void read_one(item_t *x, Py_ssize_t pn, char *path, EVP_MD_CTX *ctx) {
    const char *name = PyBytes_AS_STRING(x->name);
    Py_ssize_t nn = PyBytes_GET_SIZE(x->name);
    if (pn + nn >= PATH_MAX || memchr(name, 0, (size_t)nn) != NULL)
        return; /* the careful way says why (os.open's error, or its ValueError) */
    memcpy(path + pn, name, (size_t)nn);
    path[pn + nn] = 0;
    int fd = open_listed(path);
    if (fd < 0)
        return;
    char *buf = PyBytes_AS_STRING(x->buf);
    ssize_t got;
    do
        got = read(fd, buf, (size_t)x->size + 1);
    while (got < 0 && errno == EINTR);
    struct stat st;
    int sr = got >= 0 ? fstat(fd, &st) : -1;
    close(fd);
    if (sr != 0 || got != x->size)
        return;
    long long mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    long long ct = (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
    if ((long long)st.st_size != x->size || mt != x->mtime || ct != x->ctime ||
        (unsigned long long)st.st_ino != x->ino || (unsigned long long)st.st_dev != x->dev ||
        (unsigned long long)st.st_mode != x->mode)
        return;
    unsigned int mdlen = 0;
    if (EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, buf, (size_t)got) != 1 ||
        EVP_DigestFinal_ex(ctx, x->md, &mdlen) != 1 || mdlen != DIGEST)
        return;
    x->ok = 1;
}

static PyObject *answers(item_t *it, Py_ssize_t m) {
    PyObject *out = PyList_New(m);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < m; k++) {
        item_t *x = &it[k];
        PyObject *r;
        if (x->ok) {
            if (_PyBytes_Resize(&x->buf, (Py_ssize_t)x->size) < 0) { /* (frees it on error) */
                Py_DECREF(out);
                return NULL;
            }
            PyObject *md = PyBytes_FromStringAndSize((const char *)x->md, DIGEST);
            if (md == NULL) {
                Py_DECREF(out);
                return NULL;
            }
            r = PyTuple_Pack(2, x->buf, md);
            Py_DECREF(md);
            if (r == NULL) {
                Py_DECREF(out);
                return NULL;
            }
        } else {
            r = Py_NewRef(Py_None);
        }
        PyList_SET_ITEM(out, k, r);
    }
    return out;
}

/* The entry index *wo* (an exact int below *limit* and both lists' lengths, read now: a stat's
   attribute may have run Python that changed them) into *i*; -1: an error set */
static int index_of(PyObject *wo, Py_ssize_t limit, PyObject *names, PyObject *stats,
                    Py_ssize_t *i) {
    if (!PyLong_CheckExact(wo)) {
        PyErr_SetString(PyExc_TypeError, "an index that is not an int");
        return -1;
    }
    *i = PyLong_AsSsize_t(wo);
    if (*i == -1 && PyErr_Occurred())
        return -1;
    if (*i < 0 || *i >= limit || *i >= PyList_GET_SIZE(names) || *i >= PyList_GET_SIZE(stats)) {
        PyErr_SetString(PyExc_IndexError, "an index out of range");
        return -1;
    }
    return 0;
}

static PyObject *read_many(PyObject *self, PyObject *args) {
    PyObject *pre, *names, *stats, *which;
    Py_ssize_t start;
    long long budget;
    if (!PyArg_ParseTuple(args, "O!O!O!O!nL:read", &PyBytes_Type, &pre, &PyList_Type, &names,
                          &PyList_Type, &stats, &PyList_Type, &which, &start, &budget))
        return NULL;
    if (budget < 0 || budget > MAX_BUDGET) {
        PyErr_SetString(PyExc_ValueError, "budget out of range");
        return NULL;
    }
    Py_ssize_t total = PyList_GET_SIZE(which);
    if (start < 0 || start > total) {
        PyErr_SetString(PyExc_IndexError, "start out of range");
        return NULL;
    }
    Py_ssize_t pn = PyBytes_GET_SIZE(pre);
    Py_INCREF(pre); /* (its bytes are read without the GIL) */
    item_t *it = PyMem_Calloc((size_t)(total - start) + 1, sizeof(item_t));
    char path[PATH_MAX];
    PyObject *out = NULL;
    Py_ssize_t m = 0; /* items taken */
    if (it == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    long long sum = 0;
    /* (lists re-read with bounds each time: a stat object's attribute may run Python) */
    for (Py_ssize_t k = start; k < PyList_GET_SIZE(which) && m < total - start; k++) {
        PyObject *wo = PyList_GetItem(which, k);
        Py_ssize_t i;
        if (wo == NULL || index_of(wo, PY_SSIZE_T_MAX, names, stats, &i) < 0)
            goto done;
        item_t *x = &it[m];
        x->name = Py_NewRef(PyList_GET_ITEM(names, i));
        PyObject *st = Py_NewRef(PyList_GET_ITEM(stats, i));
        m++;
        if (!PyBytes_Check(x->name)) {
            Py_DECREF(st);
            PyErr_SetString(PyExc_TypeError, "a name that is not bytes");
            goto done;
        }
        int r = st == Py_None ? 0 : listed(st, x, budget); /* (None: gone, not tried) */
        Py_DECREF(st);
        if (r < 0)
            goto done;
        if (m > 1 && (x->folder || (x->tried && sum + x->size > budget))) {
            Py_CLEAR(x->name); /* the next call's */
            m--;
            break;
        }
        if (x->tried) {
            x->buf = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)x->size + 1);
            if (x->buf == NULL)
                goto done;
            sum += x->size;
        }
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const char *p = PyBytes_AS_STRING(pre);
    int pre_ok = pn < PATH_MAX && memchr(p, 0, (size_t)pn) == NULL;
    if (pre_ok)
        memcpy(path, p, (size_t)pn);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < m; k++)
        if (it[k].tried && pre_ok)
            read_one(&it[k], pn, path, ctx);
    Py_END_ALLOW_THREADS
    EVP_MD_CTX_free(ctx);
    out = answers(it, m);
done:
    if (it != NULL)
        for (Py_ssize_t k = 0; k < m; k++) {
            Py_XDECREF(it[k].name);
            Py_XDECREF(it[k].buf);
        }
    PyMem_Free(it);
    Py_DECREF(pre);
    return out;
}

/* The answer store() gives a file read as listed: ((name, kind, mode & 07777, mtime_ns, size,
   key, label, 0), packed lstat or no_stat, key or no_key) */
static PyObject *file_answer(item_t *x, PyObject *key, const char *sb, long long racy_after,
                             PyObject *kind, PyObject *label, PyObject *no_stat,
                             PyObject *no_key) {
    PyObject *entry = Py_BuildValue("(OOKLLOOi)", x->name, kind, x->mode & 07777ULL, x->mtime,
                                    x->size, key, label, 0);
    if (entry == NULL)
        return NULL;
    long long newest = x->mtime > x->ctime ? x->mtime : x->ctime;
    if (newest < racy_after) {
        PyObject *rs = PyBytes_FromStringAndSize(sb, STAT_SIZE);
        if (rs == NULL) {
            Py_DECREF(entry);
            return NULL;
        }
        return Py_BuildValue("(NNO)", entry, rs, key);
    }
    return Py_BuildValue("(NOO)", entry, no_stat, no_key);
}

/* One batch of store()'s files (it[0..m), read already): each read as listed given to *add*
   unless its key is pending, answered in *got*. -1: an error set. */
static int store_batch(item_t *it, Py_ssize_t m, PyObject **idx, const char *packed,
                       PyObject *got, PyObject *pending, PyObject *add, PyObject *blob,
                       long long racy_after, PyObject *kind, PyObject *label,
                       PyObject *no_stat, PyObject *no_key, long long *files,
                       long long *size, PyObject **last) {
    for (Py_ssize_t k = 0; k < m; k++) {
        item_t *x = &it[k];
        if (!x->ok)
            continue; /* the walk reads it the careful way */
        if (_PyBytes_Resize(&x->buf, (Py_ssize_t)x->size) < 0)
            return -1; /* (freed) */
        PyObject *key = PyBytes_FromStringAndSize((const char *)x->md, DIGEST);
        if (key == NULL)
            return -1;
        int known = PySet_Contains(pending, key);
        if (known == 0) {
            PyObject *a[4] = {blob, key, x->buf, Py_True};
            PyObject *r = PyObject_Vectorcall(add, a, 4, NULL);
            if (r == NULL || PySet_Add(pending, key) < 0)
                known = -1;
            Py_XDECREF(r);
        }
        Py_CLEAR(x->buf); /* (the writer holds it now, or nobody) */
        Py_ssize_t i = PyLong_AsSsize_t(idx[k]);
        PyObject *answer = known < 0 ? NULL
                                     : file_answer(x, key, packed + STAT_SIZE * i, racy_after,
                                                   kind, label, no_stat, no_key);
        if (answer == NULL || PyDict_SetItem(got, idx[k], answer) < 0) {
            Py_XDECREF(answer);
            Py_DECREF(key);
            return -1;
        }
        Py_DECREF(answer);
        *files += 1;
        *size += x->size;
        Py_XSETREF(*last, key);
    }
    return 0;
}

/* Whether entry *i* is one store() reads: listed as a regular file of at most *budget* bytes,
   its name not starting with *mark*, not in *done*; 1 with its name held in x->name, 0, or
   -1 with an error set. (Name and stat held first: a stat's attribute may run Python.) */
static int store_takes(PyObject *wo, Py_ssize_t i, PyObject *names, PyObject *stats,
                       PyObject *done, PyObject *mark, long long budget, item_t *x) {
    int in_done = PyDict_Contains(done, wo);
    if (in_done != 0)
        return in_done < 0 ? -1 : 0;
    PyObject *name = Py_NewRef(PyList_GET_ITEM(names, i));
    PyObject *st = Py_NewRef(PyList_GET_ITEM(stats, i));
    int r = 0;
    if (!PyBytes_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "a name that is not bytes");
        r = -1;
    } else if (st != Py_None && (r = listed(st, x, budget)) == 0 && x->tried) {
        Py_ssize_t ml = PyBytes_GET_SIZE(mark);
        r = !(PyBytes_GET_SIZE(name) >= ml &&
              memcmp(PyBytes_AS_STRING(name), PyBytes_AS_STRING(mark), (size_t)ml) == 0);
    }
    Py_DECREF(st);
    if (r == 1)
        x->name = name;
    else
        Py_DECREF(name);
    return r;
}

static PyObject *store_listed(PyObject *self, PyObject *args) {
    PyObject *pre, *names, *stats, *packed, *which, *done, *pending, *add, *label, *mark;
    PyObject *blob, *kind, *no_stat, *no_key;
    long long racy_after, budget;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!O!O!OLOO!LOOO!O!:store", &PyBytes_Type, &pre,
                          &PyList_Type, &names, &PyList_Type, &stats, &PyBytes_Type, &packed,
                          &PyList_Type, &which, &PyDict_Type, &done, &PySet_Type, &pending,
                          &add, &racy_after, &label, &PyBytes_Type, &mark, &budget, &blob,
                          &kind, &PyBytes_Type, &no_stat, &PyBytes_Type, &no_key))
        return NULL;
    if (!PySet_CheckExact(pending)) {
        PyErr_SetString(PyExc_TypeError, "pending is a set");
        return NULL;
    }
    if (budget < 0 || budget > MAX_BUDGET) {
        PyErr_SetString(PyExc_ValueError, "budget out of range");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(names), total = PyList_GET_SIZE(which);
    if (PyList_GET_SIZE(stats) != n || PyBytes_GET_SIZE(packed) != STAT_SIZE * n) {
        PyErr_SetString(PyExc_ValueError, "one stat and one packed lstat per name");
        return NULL;
    }
    Py_ssize_t pn = PyBytes_GET_SIZE(pre);
    /* (everything read without the GIL, or by index, held: a stat's attribute may run Python) */
    Py_INCREF(pre);
    Py_INCREF(names);
    Py_INCREF(stats);
    Py_INCREF(packed);
    PyObject *which_t = PyList_AsTuple(which);
    item_t *it = PyMem_Calloc((size_t)total + 1, sizeof(item_t));
    PyObject **idx = PyMem_Calloc((size_t)total + 1, sizeof(PyObject *));
    PyObject *got = PyDict_New(), *last = NULL, *out = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    long long files = 0, size = 0;
    Py_ssize_t m = 0;
    char path[PATH_MAX];
    const char *p = PyBytes_AS_STRING(pre);
    int pre_ok = pn < PATH_MAX && memchr(p, 0, (size_t)pn) == NULL;
    if (which_t == NULL || got == NULL)
        goto done;
    if (it == NULL || idx == NULL || ctx == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (pre_ok)
        memcpy(path, p, (size_t)pn);
    Py_ssize_t k = 0;
    while (k < total) {
        long long sum = 0;
        m = 0;
        for (; k < total; k++) { /* a batch: at most budget bytes, one file at least */
            PyObject *wo = PyTuple_GET_ITEM(which_t, k);
            Py_ssize_t i;
            if (index_of(wo, n, names, stats, &i) < 0)
                goto done;
            item_t *x = &it[m];
            memset(x, 0, sizeof(*x));
            int takes = store_takes(wo, i, names, stats, done, mark, budget, x);
            if (takes < 0)
                goto done;
            if (!takes)
                continue;
            if (m > 0 && sum + x->size > budget) {
                Py_CLEAR(x->name); /* the next batch's */
                break;
            }
            x->buf = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)x->size + 1);
            idx[m++] = wo;
            if (x->buf == NULL)
                goto done;
            sum += x->size;
        }
        if (m == 0)
            break;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t j = 0; j < m; j++)
            if (pre_ok)
                read_one(&it[j], pn, path, ctx);
        Py_END_ALLOW_THREADS
        int bad = store_batch(it, m, idx, PyBytes_AS_STRING(packed), got, pending, add, blob,
                              racy_after, kind, label, no_stat, no_key, &files, &size, &last);
        for (Py_ssize_t j = 0; j < m; j++) {
            Py_CLEAR(it[j].name);
            Py_CLEAR(it[j].buf);
        }
        m = 0;
        if (bad < 0)
            goto done;
    }
    out = Py_BuildValue("(OLLO)", got, files, size, last != NULL ? last : Py_None);
done:
    if (it != NULL)
        for (Py_ssize_t j = 0; j < m; j++) {
            Py_XDECREF(it[j].name);
            Py_XDECREF(it[j].buf);
        }
    if (ctx != NULL)
        EVP_MD_CTX_free(ctx);
    PyMem_Free(it);
    PyMem_Free(idx);
    Py_XDECREF(got);
    Py_XDECREF(last);
    Py_XDECREF(which_t);
    Py_DECREF(pre);
    Py_DECREF(names);
    Py_DECREF(stats);
    Py_DECREF(packed);
    return out;
}

/* ---- A restore's writers: put() (store/restore_write.py's Writing._put_files_py is its twin and
 * specification; the tests compare the two).
 *
 * put(work, i, j, content, why, parent_pid, proc, umask, taken, damaged, kept, shared, room)
 * creates the files and symlinks work[i:j] (restore_write._Work tuples: parent descriptor,
 * name, mode, mtime_ns, key or link target, location or None) where nothing is: each file
 * checked against its key (SHA-256), written unnamed (O_TMPFILE, mode & 01777), its all-zero
 * blocks left as holes, fchmod only when the umask (or the sticky bit) took bits, futimens,
 * then linked under its name through /proc/self/fd (*proc* open on it, or -2: by path).
 * *content*: a bytes object, the group all of work[i:j] lie in (each at its place, loc[4]),
 * or None (not read yet: NEED at the first member not in *kept*); or a list, one item per
 * file of work[i:j] (bytes: its decompressed content; None: already found damaged) where
 * each file is its own frame. *why*: the group could not be read (str) or None.
 * Appends to *taken* the positions whose name was taken meanwhile, to *damaged* (k, key,
 * why) those whose content is not their key's; a group's member met in *shared* goes into
 * *kept* while fewer than *room* bytes were added. Stops before a file once the parent pid
 * is not *parent_pid* (when not 0). Answers (k, status, errno, strerror, added): DONE (k = j),
 * STOPPED, FAILED at k (errno, strerror), NAMED at k (no O_TMPFILE or no /proc here: the
 * caller writes from k the named way), NEED at k (read the group and call again from k). */
#define PUT_INTERFACE 1
#define SAFE_MODE 01777
enum { PUT_DONE, PUT_STOPPED, PUT_FAILED, PUT_NAMED, PUT_NEED };

static const char zero512[512];

static int pwrite_all(int fd, const char *p, Py_ssize_t n, off_t at) {
    while (n > 0) {
        ssize_t w = pwrite(fd, p, (size_t)n, at);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= w;
        at += w;
    }
    return 0;
}

static int all_zero(const char *p, Py_ssize_t n) {
    return p[0] == 0 && memcmp(p, p + 1, (size_t)n - 1) == 0;
}

/* The content written from offset 0; each aligned whole block of zeros left as a hole (only
 * looked for when it holds 512 zero bytes in a row, as restore_write does) */
static int write_content(int fd, const char *p, Py_ssize_t n) {
    if (n >= 512 && memchr(p, 0, (size_t)n) != NULL &&
        memmem(p, (size_t)n, zero512, sizeof(zero512)) != NULL) {
        struct stat st;
        if (fstat(fd, &st) < 0)
            return -1;
        Py_ssize_t bs = st.st_blksize > 0 ? (Py_ssize_t)st.st_blksize : 4096;
        Py_ssize_t i = 0, b = 0;
        while (b + bs <= n) {
            if (all_zero(p + b, bs)) {
                if (b > i && pwrite_all(fd, p + i, b - i, (off_t)i) < 0)
                    return -1;
                i = b + bs;
            }
            b += bs;
        }
        if (pwrite_all(fd, p + i, n - i, (off_t)i) < 0)
            return -1;
        int r;
        do
            r = ftruncate(fd, (off_t)n);
        while (r < 0 && errno == EINTR);
        return r;
    }
    return pwrite_all(fd, p, n, 0);
}

static void ns_times(long long ns, struct timespec ts[2]) {
    long long sec = ns / 1000000000LL, rest = ns % 1000000000LL;
    if (rest < 0) { /* floor, as os.utime(ns=) splits it */
        sec -= 1;
        rest += 1000000000LL;
    }
    ts[0].tv_sec = ts[1].tv_sec = (time_t)sec;
    ts[0].tv_nsec = ts[1].tv_nsec = (long)rest;
}

/* 0 written; 1 the name is taken; 2 the named way (no O_TMPFILE, no /proc); -1 errno */
static int put_file(int parent, const char *name, unsigned mode, long long mtime, const char *p,
                    Py_ssize_t n, int proc, unsigned umask_bits) {
#ifndef O_TMPFILE
    return 2;
#else
    int fd;
    do
        fd = openat(parent, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOENT)
                   ? 2
                   : -1;
    int r = n > 0 ? write_content(fd, p, n) : 0;
    if (r == 0 && (mode & (umask_bits | 01000))) {
        int c;
        do /* again on EINTR, as os.fchmod (its twin's) does */
            c = fchmod(fd, mode);
        while (c < 0 && errno == EINTR);
        if (c < 0)
            r = -1;
    }
    if (r == 0) {
        struct timespec ts[2];
        ns_times(mtime, ts);
        if (futimens(fd, ts) < 0)
            r = -1;
    }
    if (r == 0) {
        char src[64];
        int l;
        if (proc >= 0) {
            snprintf(src, sizeof(src), "%d", fd);
            l = linkat(proc, src, parent, name, AT_SYMLINK_FOLLOW);
        } else {
            snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
            l = linkat(AT_FDCWD, src, parent, name, AT_SYMLINK_FOLLOW);
        }
        if (l < 0)
            r = errno == EEXIST ? 1 : errno == ENOENT ? 2 : -1;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return r;
#endif
}

/* 0 made; 1 the name is taken; -1 errno */
static int put_link(int parent, const char *name, const char *target, long long mtime) {
    if (symlinkat(target, parent, name) < 0)
        return errno == EEXIST ? 1 : -1;
    struct timespec ts[2];
    ns_times(mtime, ts);
    return utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -1 : 0;
}

/* A name for a system call: NULL with ValueError set when it holds a NUL (as os.* raise) */
static const char *c_name(PyObject *b) {
    if (!PyBytes_Check(b)) {
        PyErr_SetString(PyExc_TypeError, "a name that is not bytes");
        return NULL;
    }
    const char *s = PyBytes_AS_STRING(b);
    if (strlen(s) != (size_t)PyBytes_GET_SIZE(b)) {
        PyErr_SetString(PyExc_ValueError, "embedded null byte");
        return NULL;
    }
    return s;
}

static int add_damaged(PyObject *damaged, Py_ssize_t k, PyObject *key, PyObject *pack,
                       const char *fmt, PyObject *why) {
    PyObject *hex = PyObject_CallMethod(key, "hex", NULL);
    if (hex == NULL)
        return -1;
    PyObject *short_hex = PyUnicode_Substring(hex, 0, 16);
    Py_DECREF(hex);
    if (short_hex == NULL)
        return -1;
    PyObject *msg = why != NULL ? PyUnicode_FromFormat(fmt, short_hex, pack, why)
                                : PyUnicode_FromFormat(fmt, short_hex, pack);
    Py_DECREF(short_hex);
    if (msg == NULL)
        return -1;
    PyObject *t = Py_BuildValue("(nON)", k, key, msg);
    if (t == NULL)
        return -1;
    int r = PyList_Append(damaged, t);
    Py_DECREF(t);
    return r;
}

static PyObject *put_answer(Py_ssize_t k, int status, int err, long long added) {
    if (status == PUT_FAILED)
        return Py_BuildValue("(niisL)", k, status, err, strerror(err), added);
    return Py_BuildValue("(niiOL)", k, status, 0, Py_None, added);
}

/* put's loop over *items*, work[i:j] (a list of its own), *content* a group (bytes), None or
 * a list of its own too */
static PyObject *put_loop(PyObject *items, Py_ssize_t i, Py_ssize_t j, PyObject *content,
                          int group, PyObject *why, long parent_pid, int proc,
                          unsigned int umask_bits, PyObject *taken, PyObject *damaged,
                          PyObject *kept, PyObject *shared, long long room) {
    long long added = 0;
    for (Py_ssize_t k = i; k < j; k++) {
        if (parent_pid && getppid() != parent_pid)
            return put_answer(k, PUT_STOPPED, 0, added);
        PyObject *w = PyList_GET_ITEM(items, k - i);
        if (!PyTuple_Check(w) || PyTuple_GET_SIZE(w) != 6)
            return PyErr_Format(PyExc_TypeError, "work[%zd]: not a 6-tuple", k);
        long parent_l = PyLong_AsLong(PyTuple_GET_ITEM(w, 0));
        if (parent_l == -1 && PyErr_Occurred())
            return NULL;
        if (parent_l < INT_MIN || parent_l > INT_MAX)
            return PyErr_Format(PyExc_OverflowError, "work[%zd]: no descriptor", k);
        int parent = (int)parent_l;
        const char *name = c_name(PyTuple_GET_ITEM(w, 1));
        if (name == NULL)
            return NULL;
        long mode_l = PyLong_AsLong(PyTuple_GET_ITEM(w, 2));
        if (mode_l == -1 && PyErr_Occurred())
            return NULL;
        long long mtime = PyLong_AsLongLong(PyTuple_GET_ITEM(w, 3));
        if (mtime == -1 && PyErr_Occurred())
            return NULL;
        PyObject *ref = PyTuple_GET_ITEM(w, 4);
        PyObject *loc = PyTuple_GET_ITEM(w, 5);
        if (!PyBytes_Check(ref))
            return PyErr_Format(PyExc_TypeError, "work[%zd]: its key is not bytes", k);
        int r, err = 0; /* err: errno of the call that failed, before anything else runs */
        if (loc == Py_None) { /* a symlink */
            const char *target = c_name(ref);
            if (target == NULL)
                return NULL;
            Py_BEGIN_ALLOW_THREADS
            r = put_link(parent, name, target, mtime);
            err = errno;
            Py_END_ALLOW_THREADS
        } else {
            if (!PyTuple_Check(loc) || PyTuple_GET_SIZE(loc) != 5)
                return PyErr_Format(PyExc_TypeError, "work[%zd]: its place is not a 5-tuple", k);
            PyObject *pack = PyTuple_GET_ITEM(loc, 0);
            PyObject *data; /* owned: its bytes stay while the GIL is let go */
            const char *p;
            Py_ssize_t n;
            int check = 1;
            if (group) {
                data = PyDict_GetItemWithError(kept, ref);
                if (data == NULL && PyErr_Occurred())
                    return NULL;
                if (data != NULL) {
                    if (!PyBytes_Check(data))
                        return PyErr_Format(PyExc_TypeError, "a kept content not bytes");
                    Py_INCREF(data);
                    p = PyBytes_AS_STRING(data);
                    n = PyBytes_GET_SIZE(data);
                    check = 0;
                } else {
                    if (content == Py_None)
                        return put_answer(k, PUT_NEED, 0, added);
                    Py_ssize_t size = PyLong_AsSsize_t(PyTuple_GET_ITEM(loc, 3));
                    if (size == -1 && PyErr_Occurred())
                        return NULL;
                    Py_ssize_t inner = PyLong_AsSsize_t(PyTuple_GET_ITEM(loc, 4));
                    if (inner == -1 && PyErr_Occurred())
                        return NULL;
                    if (inner < 0 || size < 0 || size > PyBytes_GET_SIZE(content) - inner) {
                        PyObject *past = why;
                        if (past == Py_None)
                            past = PyUnicode_FromString("object lies past the end of its group");
                        else
                            Py_INCREF(past);
                        if (past == NULL)
                            return NULL;
                        int bad = add_damaged(damaged, k, ref, pack,
                                              "object %U in pack %S is unreadable: %U", past);
                        Py_DECREF(past);
                        if (bad < 0)
                            return NULL;
                        continue;
                    }
                    data = content;
                    Py_INCREF(data);
                    p = PyBytes_AS_STRING(content) + inner;
                    n = size;
                }
            } else {
                data = PyList_GET_ITEM(content, k - i);
                if (data == Py_None)
                    continue; /* found damaged already */
                if (!PyBytes_Check(data))
                    return PyErr_Format(PyExc_TypeError, "content[%zd]: not bytes", k - i);
                Py_INCREF(data);
                p = PyBytes_AS_STRING(data);
                n = PyBytes_GET_SIZE(data);
            }
            int match = 1;
            if (check) {
                unsigned char md[DIGEST];
                int ok;
                Py_BEGIN_ALLOW_THREADS
                ok = EVP_Digest(p, (size_t)n, md, NULL, sha256_md, NULL);
                Py_END_ALLOW_THREADS
                if (!ok) {
                    Py_DECREF(data);
                    return PyErr_Format(PyExc_RuntimeError, "SHA-256 failed");
                }
                match = PyBytes_GET_SIZE(ref) == DIGEST &&
                        memcmp(md, PyBytes_AS_STRING(ref), DIGEST) == 0;
            }
            if (!match) {
                Py_DECREF(data);
                if (add_damaged(damaged, k, ref, pack, "object %U in pack %S does not match its hash",
                                NULL) < 0)
                    return NULL;
                continue;
            }
            if (group && check && added < room) {
                int held = PySet_Contains(shared, ref);
                if (held < 0) {
                    Py_DECREF(data);
                    return NULL;
                }
                if (held) { /* the next files of this content take it */
                    PyObject *copy = PyBytes_FromStringAndSize(p, n);
                    Py_DECREF(data);
                    if (copy == NULL)
                        return NULL;
                    if (PyDict_SetItem(kept, ref, copy) < 0) {
                        Py_DECREF(copy);
                        return NULL;
                    }
                    added += n;
                    data = copy;
                    p = PyBytes_AS_STRING(copy);
                }
            }
            unsigned mode = (unsigned)mode_l & SAFE_MODE;
            Py_BEGIN_ALLOW_THREADS
            r = put_file(parent, name, mode, mtime, p, n, proc, umask_bits);
            err = errno;
            Py_END_ALLOW_THREADS
            Py_DECREF(data);
            if (r == 2)
                return put_answer(k, PUT_NAMED, 0, added);
        }
        if (r < 0)
            return put_answer(k, PUT_FAILED, err, added);
        if (r == 1) {
            PyObject *at = PyLong_FromSsize_t(k);
            if (at == NULL || PyList_Append(taken, at) < 0) {
                Py_XDECREF(at);
                return NULL;
            }
            Py_DECREF(at);
        }
    }
    return put_answer(j, PUT_DONE, 0, added);
}

static PyObject *put_many(PyObject *self, PyObject *args) {
    PyObject *work, *content, *why, *taken, *damaged, *kept, *shared;
    Py_ssize_t i, j;
    long parent_pid;
    int proc;
    unsigned int umask_bits;
    long long room;
    (void)self;
    if (!PyArg_ParseTuple(args, "O!nnOOliIO!O!O!O!L", &PyList_Type, &work, &i, &j, &content,
                          &why, &parent_pid, &proc, &umask_bits, &PyList_Type, &taken,
                          &PyList_Type, &damaged, &PyDict_Type, &kept, &PySet_Type, &shared,
                          &room))
        return NULL;
    int group = PyBytes_Check(content) || content == Py_None;
    if (!group && !(PyList_Check(content) && PyList_GET_SIZE(content) == j - i))
        return PyErr_Format(PyExc_TypeError, "content: bytes, None or a list of j - i items");
    if (why != Py_None && !PyUnicode_Check(why))
        return PyErr_Format(PyExc_TypeError, "why: str or None");
    if (i < 0 || j > PyList_GET_SIZE(work) || i > j)
        return PyErr_Format(PyExc_IndexError, "work[i:j] out of range");
    /* Lists of its own, holding work[i:j]'s tuples (so their names and link targets, which the
     * system calls read with the GIL let go) and a span's contents: whatever other Python code
     * does meanwhile to the caller's lists (another thread, a key's __hash__ or __eq__ run by
     * the kept dict or the shared set), nothing put reads is freed or out of range */
    PyObject *items = PyList_GetSlice(work, i, j);
    if (items == NULL)
        return NULL;
    PyObject *datas = group ? NULL : PyList_GetSlice(content, 0, j - i);
    if (!group && datas == NULL) {
        Py_DECREF(items);
        return NULL;
    }
    PyObject *out = put_loop(items, i, j, group ? content : datas, group, why, parent_pid, proc,
                             umask_bits, taken, damaged, kept, shared, room);
    Py_DECREF(items);
    Py_XDECREF(datas);
    return out;
}

static PyMethodDef methods[] = {
    {"read", read_many, METH_VARARGS,
     "read(pre, names, stats, which, start, budget) -> list of (content, sha256) or None"},
    {"store", store_listed, METH_VARARGS,
     "store(pre, names, stats, packed, which, done, pending, add, racy_after, label, mark, "
     "budget, blob, kind, no_stat, no_key) -> (answers, files, size, last key)"},
    {"put", put_many, METH_VARARGS,
     "put(work, i, j, content, why, parent_pid, proc, umask, taken, damaged, kept, shared, "
     "room) -> (k, status, errno, strerror, added)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_readmany", NULL, -1, methods};

PyMODINIT_FUNC PyInit__readmany(void) {
    if (sha256_md == NULL) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
        sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); /* once, not per digest */
#endif
        if (sha256_md == NULL)
            sha256_md = EVP_sha256();
    }
    if (sha256_md == NULL)
        return PyErr_Format(PyExc_ImportError, "no SHA-256 in OpenSSL");
    if (!(s_size = PyUnicode_InternFromString("st_size")) ||
        !(s_mtime = PyUnicode_InternFromString("st_mtime_ns")) ||
        !(s_ctime = PyUnicode_InternFromString("st_ctime_ns")) ||
        !(s_ino = PyUnicode_InternFromString("st_ino")) ||
        !(s_dev = PyUnicode_InternFromString("st_dev")) ||
        !(s_mode = PyUnicode_InternFromString("st_mode")))
        return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL)
        return NULL;
    if (PyModule_AddIntConstant(mod, "INTERFACE", INTERFACE) < 0 ||
        PyModule_AddIntConstant(mod, "MAX_BUDGET", MAX_BUDGET) < 0 ||
        PyModule_AddIntConstant(mod, "PUT_INTERFACE", PUT_INTERFACE) < 0 ||
        PyModule_AddStringConstant(mod, "SOURCE_SHA256", GS_READMANY_SOURCE_SHA256) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
