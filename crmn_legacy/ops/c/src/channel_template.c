/* channel_template.c -- per-channel bias and its gradient, for one dtype.
 *
 * crmn_legacy/ops/channel.py instantiates this text for float and double
 * (DTYPE, NPYTYPE).  x is (N, C, S) C-contiguous (S = product of the
 * trailing sizes).
 *
 *   add_channel_bias  y[n,c,s] = x[n,c,s] + b[c]          (OpenMP over the N*C rows; y may be x)
 *   channel_sum       g[c]     = sum_{n,s} x[n,c,s]        (OpenMP over c, double accumulators)
 */

/* inplace: write into x's own buffer when it is already a contiguous, aligned, writeable array of DTYPE
 * (the Op's destroy_map allows it), else into *y_out as usual. */
static int crmn_add_channel_bias_DTYPE(PyArrayObject *x_in, PyArrayObject *b_in, int inplace, PyArrayObject **y_out)
{
    const char *op = "AddChannelBias";
    npy_intp N, C, S;
    PyArrayObject *xa = crmn_contig(x_in, NPYTYPE), *ba = NULL;
    int ret = -1;
    if (xa == NULL || (ba = crmn_contig(b_in, NPYTYPE)) == NULL) goto done;
    if (crmn_ch_dims(xa, op, &N, &C, &S)) goto done;
    if (PyArray_NDIM(ba) != 1 || PyArray_DIMS(ba)[0] != C) {
        PyErr_Format(PyExc_ValueError, "%s: bias must be a vector of %ld channel values", op, (long)C);
        goto done;
    }
    if (inplace && xa == x_in && PyArray_ISWRITEABLE(xa)) {
        if (*y_out != xa) {
            Py_XDECREF(*y_out);
            Py_INCREF(xa);
            *y_out = xa;
        }
    } else if (crmn_prepare(y_out, PyArray_NDIM(xa), PyArray_DIMS(xa), NPYTYPE)) {
        goto done;
    }
    {
        const DTYPE *x = (const DTYPE *)PyArray_DATA(xa), *b = (const DTYPE *)PyArray_DATA(ba);
        DTYPE *y = (DTYPE *)PyArray_DATA(*y_out);
        const npy_intp rows = N * C;
        const int nt = crmn_threads(rows, rows * S, 65536);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (npy_intp r = 0; r < rows; ++r) {
            const DTYPE bc = b[r % C];
            const DTYPE *xr = x + r * S;
            DTYPE *yr = y + r * S;
            for (npy_intp s = 0; s < S; ++s) yr[s] = xr[s] + bc;
        }
    }
    ret = 0;
done:
    Py_XDECREF(xa);
    Py_XDECREF(ba);
    return ret;
}

static int crmn_channel_sum_DTYPE(PyArrayObject *x_in, PyArrayObject **g_out)
{
    npy_intp N, C, S;
    PyArrayObject *xa = crmn_contig(x_in, NPYTYPE);
    int ret = -1;
    if (xa == NULL) goto done;
    if (crmn_ch_dims(xa, "ChannelSum", &N, &C, &S)) goto done;
    if (crmn_prepare(g_out, 1, &C, NPYTYPE)) goto done;
    {
        const DTYPE *x = (const DTYPE *)PyArray_DATA(xa);
        DTYPE *g = (DTYPE *)PyArray_DATA(*g_out);
        const int nt = crmn_threads(C, N * C * S, 65536);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
        for (npy_intp c = 0; c < C; ++c) {
            double sum = 0.0;
            for (npy_intp n = 0; n < N; ++n) {
                const DTYPE *xr = x + (n * C + c) * S;
                DTYPE acc = 0;
#pragma omp simd reduction(+ : acc)
                for (npy_intp s = 0; s < S; ++s) acc += xr[s];
                sum += (double)acc;
            }
            g[c] = (DTYPE)sum;
        }
    }
    ret = 0;
done:
    Py_XDECREF(xa);
    return ret;
}
