/* matmul_common.h -- dtype-independent helpers of the threaded matmul C code. */
#ifndef CRMN_MATMUL_COMMON_H
#define CRMN_MATMUL_COMMON_H

/* Rows x cols of op(a): a is r x c, transposed or not. */
static void crmn_mm_op_shape(PyArrayObject *a, int trans, npy_intp *rows, npy_intp *cols)
{
    *rows = PyArray_DIMS(a)[trans ? 1 : 0];
    *cols = PyArray_DIMS(a)[trans ? 0 : 1];
}

#endif /* CRMN_MATMUL_COMMON_H */
