/* channel_common.h -- dtype-independent helpers of the per-channel bias C code. */
#ifndef CRMN_CHANNEL_COMMON_H
#define CRMN_CHANNEL_COMMON_H

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

#endif /* CRMN_CHANNEL_COMMON_H */
