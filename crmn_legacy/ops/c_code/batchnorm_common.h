/* batchnorm_common.h -- dtype-independent helpers of the fused batch-norm C code. */
#ifndef CRMN_BATCHNORM_COMMON_H
#define CRMN_BATCHNORM_COMMON_H

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static PyArrayObject *crmn_bn_contig(PyArrayObject *a, int typenum)
{
    return (PyArrayObject *)PyArray_FROMANY((PyObject *)a, typenum, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
}

static int crmn_bn_check_vec(const char *op, const char *what, PyArrayObject *v, npy_intp C)
{
    if (PyArray_NDIM(v) != 1 || PyArray_DIMS(v)[0] != C) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be a vector of %ld channel values, got shape (%ld%s)", op,
                     what, (long)C, PyArray_NDIM(v) ? (long)PyArray_DIMS(v)[0] : 0L,
                     PyArray_NDIM(v) == 1 ? ",": ", ...");
        return -1;
    }
    return 0;
}

/* Make *out a C-contiguous writeable array of the given shape, reusing it when possible. */
static int crmn_bn_prepare(PyArrayObject **out, int nd, const npy_intp *dims, int typenum)
{
    if (*out != NULL && PyArray_NDIM(*out) == nd && PyArray_TYPE(*out) == typenum &&
        PyArray_IS_C_CONTIGUOUS(*out) && PyArray_ISWRITEABLE(*out) &&
        PyArray_CompareLists(PyArray_DIMS(*out), (npy_intp *)dims, nd))
        return 0;
    Py_XDECREF(*out);
    *out = (PyArrayObject *)PyArray_EMPTY(nd, (npy_intp *)dims, typenum, 0);
    return *out == NULL ? -1 : 0;
}

/* Threads for C channels of `per` elements each: one when the work is tiny. */
static int crmn_bn_threads(npy_intp C, npy_intp per)
{
    int nt = 1;
#ifdef _OPENMP
    nt = omp_get_max_threads();
#endif
    if ((npy_intp)nt > C) nt = (int)C;
    if (C * per < 32768) nt = 1;
    return nt < 1 ? 1 : nt;
}

#endif /* CRMN_BATCHNORM_COMMON_H */
