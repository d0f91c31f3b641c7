/* pool_common.h -- dtype-independent helpers of the mean-pooling C code. */
#ifndef CRMN_POOL_COMMON_H
#define CRMN_POOL_COMMON_H

#ifdef _OPENMP
#include <omp.h>
#endif

static PyArrayObject *crmn_pool_contig(PyArrayObject *a, int typenum)
{
    return (PyArrayObject *)PyArray_FROMANY((PyObject *)a, typenum, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
}

static int crmn_pool_check4(PyArrayObject *a, const char *op, const char *what)
{
    if (PyArray_NDIM(a) != 4) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be 4-D (N, C, H, W), got %d dimensions", op, what,
                     PyArray_NDIM(a));
        return -1;
    }
    return 0;
}

static int crmn_pool_check_size(PyArrayObject *a, int p)
{
    if (PyArray_DIMS(a)[2] < p || PyArray_DIMS(a)[3] < p) {
        PyErr_Format(PyExc_ValueError, "MeanPool: input of spatial shape (%ld, %ld) is smaller than the %dx%d pool",
                     (long)PyArray_DIMS(a)[2], (long)PyArray_DIMS(a)[3], p, p);
        return -1;
    }
    return 0;
}

static int crmn_pool_read_pair(PyArrayObject *v, npy_int64 out[2])
{
    if (PyArray_NDIM(v) != 1 || PyArray_DIMS(v)[0] != 2 || PyArray_TYPE(v) != NPY_INT64) {
        PyErr_SetString(PyExc_ValueError, "MeanPoolGrad: ishape must be an int64 vector of length 2");
        return -1;
    }
    out[0] = *(npy_int64 *)PyArray_GETPTR1(v, 0);
    out[1] = *(npy_int64 *)PyArray_GETPTR1(v, 1);
    return 0;
}

/* Make *out a C-contiguous writeable 4-D array of the given shape, reusing it when possible. */
static int crmn_pool_prepare(PyArrayObject **out, const npy_intp *dims, int typenum)
{
    if (*out != NULL && PyArray_NDIM(*out) == 4 && PyArray_TYPE(*out) == typenum &&
        PyArray_IS_C_CONTIGUOUS(*out) && PyArray_ISWRITEABLE(*out) &&
        PyArray_CompareLists(PyArray_DIMS(*out), (npy_intp *)dims, 4))
        return 0;
    Py_XDECREF(*out);
    *out = (PyArrayObject *)PyArray_EMPTY(4, (npy_intp *)dims, typenum, 0);
    return *out == NULL ? -1 : 0;
}

/* Threads for `planes` planes of `per` elements: one when the work is tiny. */
static int crmn_pool_threads(npy_intp planes, npy_intp per)
{
    int nt = 1;
#ifdef _OPENMP
    nt = omp_get_max_threads();
#endif
    if ((npy_intp)nt > planes) nt = (int)planes;
    if (planes * per < 65536) nt = 1;
    return nt < 1 ? 1 : nt;
}

#endif /* CRMN_POOL_COMMON_H */
