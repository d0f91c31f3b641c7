/* channel_common.h -- dtype-independent helpers of the per-channel bias C code. */
#ifndef CRMN_CHANNEL_COMMON_H
#define CRMN_CHANNEL_COMMON_H

#ifdef _OPENMP
#include <omp.h>
#endif

static PyArrayObject *crmn_ch_contig(PyArrayObject *a, int typenum)
{
    return (PyArrayObject *)PyArray_FROMANY((PyObject *)a, typenum, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
}

/* (N, C, S) view of an (N, C, ...) array: S = product of the trailing sizes. */
static int crmn_ch_dims(PyArrayObject *a, const char *op, npy_intp *N, npy_intp *C, npy_intp *S)
{
    if (PyArray_NDIM(a) < 2) {
        PyErr_Format(PyExc_ValueError, "%s: input must have >= 2 dimensions (N, C, ...)", op);
        return -1;
    }
    *N = PyArray_DIMS(a)[0];
    *C = PyArray_DIMS(a)[1];
    *S = 1;
    for (int d = 2; d < PyArray_NDIM(a); ++d) *S *= PyArray_DIMS(a)[d];
    return 0;
}

/* Make *out a C-contiguous writeable array of the given shape, reusing it when possible. */
static int crmn_ch_prepare(PyArrayObject **out, int nd, const npy_intp *dims, int typenum)
{
    if (*out != NULL && PyArray_NDIM(*out) == nd && PyArray_TYPE(*out) == typenum &&
        PyArray_IS_C_CONTIGUOUS(*out) && PyArray_ISWRITEABLE(*out) &&
        PyArray_CompareLists(PyArray_DIMS(*out), (npy_intp *)dims, nd))
        return 0;
    Py_XDECREF(*out);
    *out = (PyArrayObject *)PyArray_EMPTY(nd, (npy_intp *)dims, typenum, 0);
    return *out == NULL ? -1 : 0;
}

/* Threads for `work` elements split in `units` independent units: one when tiny. */
static int crmn_ch_threads(npy_intp units, npy_intp work)
{
    int nt = 1;
#ifdef _OPENMP
    nt = omp_get_max_threads();
#endif
    if ((npy_intp)nt > units) nt = (int)units;
    if (work < 65536) nt = 1;
    return nt < 1 ? 1 : nt;
}

#endif /* CRMN_CHANNEL_COMMON_H */
