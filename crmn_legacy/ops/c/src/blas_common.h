/* blas_common.h -- the scipy-openblas32 wheel, as the BLAS-calling Ops (convolutions, matmul) use it.
 *
 * ops/c/templates.py puts this text after crmn_common.h in those Ops' support code.
 */
#ifndef CRMN_BLAS_COMMON_H
#define CRMN_BLAS_COMMON_H

#include <cblas.h>

/* OpenBLAS thread control of the wheel (declared in its cblas.h). */
#define CRMN_BLAS_GET_THREADS scipy_openblas_get_num_threads
#define CRMN_BLAS_SET_THREADS scipy_openblas_set_num_threads

/* The GEMM of each instantiated dtype (templates call CRMN_GEMM_DTYPE). */
#define CRMN_GEMM_float scipy_cblas_sgemm
#define CRMN_GEMM_double scipy_cblas_dgemm

#endif /* CRMN_BLAS_COMMON_H */
