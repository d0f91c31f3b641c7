/* crmn_common.h -- helpers shared by every C Op of crmn_legacy.
 *
 * ops/c/templates.py puts this text first in every Op's support code.
 */
#ifndef CRMN_COMMON_H
#define CRMN_COMMON_H

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#define CRMN_THREAD_ID() omp_get_thread_num()
#else
#define CRMN_THREAD_ID() 0
#endif

/* A C-contiguous aligned array of the given type (new reference), or NULL with an error set. */
static PyArrayObject *crmn_contig(PyArrayObject *a, int typenum)
{
    return (PyArrayObject *)PyArray_FROMANY((PyObject *)a, typenum, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
}

/* Make *out a C-contiguous writeable array of the given shape, reusing it when possible. */
static int crmn_prepare(PyArrayObject **out, int nd, const npy_intp *dims, int typenum)
{
    if (*out != NULL && PyArray_NDIM(*out) == nd && PyArray_TYPE(*out) == typenum &&
        PyArray_IS_C_CONTIGUOUS(*out) && PyArray_ISWRITEABLE(*out) &&
        PyArray_CompareLists(PyArray_DIMS(*out), (npy_intp *)dims, nd))
        return 0;
    Py_XDECREF(*out);
    *out = (PyArrayObject *)PyArray_EMPTY(nd, (npy_intp *)dims, typenum, 0);
    return *out == NULL ? -1 : 0;
}

/* Make *out a C-contiguous writeable 4-D array (d0, d1, d2, d3), reusing it when possible. */
static int crmn_prepare4(PyArrayObject **out, npy_intp d0, npy_intp d1, npy_intp d2, npy_intp d3, int typenum)
{
    const npy_intp dims[4] = {d0, d1, d2, d3};
    return crmn_prepare(out, 4, dims, typenum);
}

/* C-contiguous copies (new references) of a and b, or -1 with an error set and nothing held. */
static int crmn_contig2(PyArrayObject *a, PyArrayObject *b, int typenum, PyArrayObject **a_out,
                        PyArrayObject **b_out)
{
    *a_out = crmn_contig(a, typenum);
    *b_out = *a_out ? crmn_contig(b, typenum) : NULL;
    if (*b_out == NULL) {
        Py_XDECREF(*a_out);
        return -1;
    }
    return 0;
}

/* Read an int64 vector of length 2 (a kshape / ishape input). */
static int crmn_read_pair(const char *op, const char *what, PyArrayObject *v, npy_int64 out[2])
{
    if (PyArray_NDIM(v) != 1 || PyArray_DIMS(v)[0] != 2 || PyArray_TYPE(v) != NPY_INT64) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be an int64 vector of length 2", op, what);
        return -1;
    }
    out[0] = *(npy_int64 *)PyArray_GETPTR1(v, 0);
    out[1] = *(npy_int64 *)PyArray_GETPTR1(v, 1);
    return 0;
}

/* OpenMP threads for `units` independent units of `work` elements in all: one when tiny. */
static int crmn_threads(npy_intp units, npy_intp work, npy_intp min_work)
{
    int nt = 1;
#ifdef _OPENMP
    nt = omp_get_max_threads();
#endif
    if ((npy_intp)nt > units) nt = (int)units;
    if (work < min_work) nt = 1;
    return nt < 1 ? 1 : nt;
}

#endif /* CRMN_COMMON_H */
