/* matmul_template.c -- c = op(a) . op(b) on both cores, for one dtype.
 *
 * crmn_legacy/ops/matmul.py instantiates this text for float / double (DTYPE,
 * NPYTYPE; CRMN_GEMM_DTYPE is scipy_cblas_sgemm / scipy_cblas_dgemm).  op(a) is M x K,
 * op(b) is K x N, c is M x N C-contiguous.  The larger of M and N is cut into
 * one block per OpenMP thread and each thread calls single-threaded BLAS on
 * its block: the same arithmetic as one GEMM call, without OpenBLAS's own
 * busy-waiting threads (see ops/c/conv_mixin.py for why those are kept at one).
 */

static int crmn_matmul_DTYPE(PyArrayObject *a_in, PyArrayObject *b_in, int ta, int tb, PyArrayObject **c_out)
{
    PyArrayObject *a = crmn_contig(a_in, NPYTYPE), *b = NULL;
    int ret = -1;
    if (a == NULL || (b = crmn_contig(b_in, NPYTYPE)) == NULL) goto done;
    if (PyArray_NDIM(a) != 2 || PyArray_NDIM(b) != 2) {
        PyErr_SetString(PyExc_ValueError, "Matmul: both operands must be matrices");
        goto done;
    }
    {
        npy_intp M, K, K2, N;
        crmn_mm_op_shape(a, ta, &M, &K);
        crmn_mm_op_shape(b, tb, &K2, &N);
        if (K != K2) {
            PyErr_Format(PyExc_ValueError, "Matmul: inner dimensions differ: op(a) is %ld x %ld, op(b) is %ld x %ld",
                         (long)M, (long)K, (long)K2, (long)N);
            goto done;
        }
        npy_intp dims[2] = {M, N};
        if (crmn_prepare(c_out, 2, dims, NPYTYPE)) goto done;
        DTYPE *c = (DTYPE *)PyArray_DATA(*c_out);
        const DTYPE *A = (const DTYPE *)PyArray_DATA(a), *B = (const DTYPE *)PyArray_DATA(b);
        const npy_intp lda = PyArray_DIMS(a)[1], ldb = PyArray_DIMS(b)[1];
        if (M == 0 || N == 0) {
            ret = 0;
            goto done;
        }
        if (K == 0) {
            memset(c, 0, sizeof(DTYPE) * (size_t)M * N);
            ret = 0;
            goto done;
        }
        const int split_rows = M >= N;
        const npy_intp big = split_rows ? M : N;
        int nt = crmn_threads(big, M * N * K, 1 << 20);
        if (nt > 1 && big / nt < 16) nt = 1;
        int saved = 0;
        if (nt > 1) {
            saved = CRMN_BLAS_GET_THREADS();
            CRMN_BLAS_SET_THREADS(1);
        }
#pragma omp parallel num_threads(nt) if (nt > 1)
        {
            int t = 0, T = 1;
#ifdef _OPENMP
            t = omp_get_thread_num();
            T = omp_get_num_threads();
#endif
            const npy_intp lo = big * t / T, hi = big * (t + 1) / T;
            if (hi > lo) {
                if (split_rows) { /* rows lo..hi of c: rows of op(a) */
                    const DTYPE *Ab = ta ? A + lo : A + lo * lda;
                    CRMN_GEMM_DTYPE(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                         (int)(hi - lo), (int)N, (int)K, 1, Ab, (int)lda, B, (int)ldb, 0, c + lo * N, (int)N);
                } else { /* columns lo..hi of c: columns of op(b) */
                    const DTYPE *Bb = tb ? B + lo * ldb : B + lo;
                    CRMN_GEMM_DTYPE(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                         (int)M, (int)(hi - lo), (int)K, 1, A, (int)lda, Bb, (int)ldb, 0, c + lo, (int)N);
                }
            }
        }
        if (nt > 1) CRMN_BLAS_SET_THREADS(saved);
    }
    ret = 0;
done:
    Py_XDECREF(a);
    Py_XDECREF(b);
    return ret;
}
