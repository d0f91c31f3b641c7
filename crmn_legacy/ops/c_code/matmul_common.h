/* matmul_common.h -- dtype-independent helpers of the threaded matmul C code. */
#ifndef CRMN_MATMUL_COMMON_H
#define CRMN_MATMUL_COMMON_H

#include <cblas.h>

/* OpenBLAS thread control of the scipy-openblas32 wheel (declared in its cblas.h). */
#define CRMN_MM_BLAS_GET_THREADS scipy_openblas_get_num_threads
#define CRMN_MM_BLAS_SET_THREADS scipy_openblas_set_num_threads

/* The GEMM of each instantiated dtype (matmul_template.c calls CRMN_GEMM_DTYPE). */
#define CRMN_GEMM_float scipy_cblas_sgemm
#define CRMN_GEMM_double scipy_cblas_dgemm

/* Rows x cols of op(a): a is r x c, transposed or not. */
static void crmn_mm_op_shape(PyArrayObject *a, int trans, npy_intp *rows, npy_intp *cols)
{
    *rows = PyArray_DIMS(a)[trans ? 1 : 0];
    *cols = PyArray_DIMS(a)[trans ? 0 : 1];
}

#endif /* CRMN_MATMUL_COMMON_H */
