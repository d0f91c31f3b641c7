/* batchnorm_common.h -- dtype-independent helpers of the fused batch-norm C code. */
#ifndef CRMN_BATCHNORM_COMMON_H
#define CRMN_BATCHNORM_COMMON_H

#include <math.h>

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

#endif /* CRMN_BATCHNORM_COMMON_H */
