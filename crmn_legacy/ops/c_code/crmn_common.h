/* crmn_common.h -- helpers shared by the elementwise-style C Ops (batch norm, channel, pooling).
 *
 * ops/_c_templates.py puts this text first in every such Op's support code.
 */
#ifndef CRMN_COMMON_H
#define CRMN_COMMON_H

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
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
