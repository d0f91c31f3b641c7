/* pool_common.h -- dtype-independent helpers of the mean-pooling C code. */
#ifndef CRMN_POOL_COMMON_H
#define CRMN_POOL_COMMON_H

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

#endif /* CRMN_POOL_COMMON_H */
