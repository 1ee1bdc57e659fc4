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
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define INTERFACE 1
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
        if (wo == NULL)
            goto done;
        if (!PyLong_CheckExact(wo)) {
            PyErr_SetString(PyExc_TypeError, "an index that is not an int");
            goto done;
        }
        Py_ssize_t i = PyLong_AsSsize_t(wo);
        if (i == -1 && PyErr_Occurred())
            goto done;
        if (i < 0 || i >= PyList_GET_SIZE(names) || i >= PyList_GET_SIZE(stats)) {
            PyErr_SetString(PyExc_IndexError, "an index out of range");
            goto done;
        }
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

static PyMethodDef methods[] = {
    {"read", read_many, METH_VARARGS,
     "read(pre, names, stats, which, start, budget) -> list of (content, sha256) or None"},
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
        PyModule_AddStringConstant(mod, "SOURCE_SHA256", GS_READMANY_SOURCE_SHA256) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
