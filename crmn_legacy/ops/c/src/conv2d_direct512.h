/* conv2d_direct512.h -- AVX-512 register tiles for the direct float32 kernels of conv2d_direct.h.
 *
 * Included right after conv2d_direct.h, which declares the two entry points
 * defined here (crmn_dk5_block, crmn_gw5_group) and calls them where
 * crmn_direct_avx512() says so: a CPU with AVX-512F, unless the environment
 * variable CRMN_CONV_ISA=avx2 (read at every call) asks for the AVX2 tiles.
 *
 * Same arithmetic, wider vectors.  Every output element is accumulated by the
 * same sequence of FMAs as in the AVX2 tiles (over the taps of a chunk, in
 * order, from 0, then added to the output; for grad weights over the pixels of
 * a group, in order, from 0, then added to the per-thread dw^T), so the two
 * ISAs give bit-identical results; only how many elements one instruction
 * carries changes:
 *
 * Forward / grad inputs: for outputs (resp. dx phases) wider than 8 columns a
 * vector is any 16-column piece of an output row (masked at the row end); for
 * outputs at most 8 wide, the columns of two consecutive rows (two 8-float
 * loads joined; a row alone would leave half the vector empty).  Register tile
 * 6 output channels x 4 vectors (4 x 4 and 2 x 4 for a narrower last channel
 * block), over the same pre-transposed filters [F/6][K][6] and tap offsets.
 * The loads run up to 15 floats past a row's end; the padded buffer's slack
 * (a row + 64 floats) covers that.
 * Grad weights: 32 filters (two vectors of 16) x 12 taps per tile (16 x 12
 * when fewer filters remain), the tap remainder in tiles of 8, 4, 2 and 1.
 */
#ifndef CRMN_CONV2D_DIRECT512_H
#define CRMN_CONV2D_DIRECT512_H

#if CRMN_DIRECT_X86

#define CRMN_DK5_V 4 /* 16-column vectors per register tile */
#define CRMN_DK5_INLINE static inline __attribute__((always_inline, target("avx512f,avx2,fma")))
#define CRMN_DK5_TARGET __attribute__((target("avx512f,avx2,fma")))

static int crmn_direct_avx512(void)
{
    static int ok = -1;
    if (ok < 0) {
        __builtin_cpu_init();
        ok = __builtin_cpu_supports("avx512f");
    }
    const char *s = getenv("CRMN_CONV_ISA");
    if (s != NULL && strcmp(s, "avx2") == 0) return 0;
    return ok;
}

static inline __mmask16 crmn_dk5_mask(int cols) { return cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1u); }

/* d[0..cols) (+)= o (cols <= 8) */
CRMN_DK5_INLINE void crmn_dk5_store8(__m256 o, int cols, int accum, float *d)
{
    const __m256i m = _mm256_loadu_si256((const __m256i *)(crmn_dk_masktab + 8 - cols));
    if (accum) o = _mm256_add_ps(o, _mm256_maskload_ps(d, m));
    _mm256_maskstore_ps(d, m, o);
}

/* out + r*ostride + vec[v].out (+)= res[r*V + v] for r < rv, columns < vec[v].cols; row pairs: lanes
 * 0-7 to vec[v].out, lanes 8-15 to vec[v].out2 (columns < cols2) */
CRMN_DK5_TARGET static void crmn_dk5_store(const __m512 *res, int R, int V, const crmn_dk_vec *vec, int rv,
                                           int accum, int pairs, float *out, npy_intp ostride)
{
    if (pairs) {
        for (int v = 0; v < V; ++v)
            for (int r = 0; r < R && r < rv; ++r) {
                const __m512 o = res[r * V + v];
                crmn_dk5_store8(_mm512_castps512_ps256(o), vec[v].cols, accum, out + vec[v].out + r * ostride);
                if (vec[v].cols2)
                    crmn_dk5_store8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(o), 1)), vec[v].cols2,
                                    accum, out + vec[v].out2 + r * ostride);
            }
        return;
    }
    for (int v = 0; v < V; ++v) {
        float *dst = out + vec[v].out;
        const __mmask16 m = crmn_dk5_mask(vec[v].cols);
        for (int r = 0; r < R && r < rv; ++r) {
            __m512 o = res[r * V + v];
            float *d = dst + r * ostride;
            if (accum) o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(m, d));
            _mm512_mask_storeu_ps(d, m, o);
        }
    }
}

/* acc[r][v] = sum_k wt[k*CRMN_DK_R + r] * in[koff[k] + vec[v].in] (R, V, PAIRS constants after
 * inlining; row pairs: lanes 8-15 read in[koff[k] + vec[v].in2]) */
CRMN_DK5_INLINE void crmn_dk5_tile(const float *in, const int *koff, int K, const float *wt, const crmn_dk_vec *vec,
                                   const int R, const int V, int rv, const int accum, const int PAIRS, float *out,
                                   npy_intp ostride)
{
    __m512 acc[CRMN_DK_R][CRMN_DK5_V];
    const float *pin[CRMN_DK5_V], *pin2[CRMN_DK5_V];
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
    for (int v = 0; v < V; ++v) {
        pin[v] = in + vec[v].in;
        pin2[v] = in + vec[v].in2;
    }
    for (int k = 0; k < K; ++k) {
        const int o = koff[k];
        __m512 xv[CRMN_DK5_V];
        for (int v = 0; v < V; ++v)
            xv[v] = PAIRS ? _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(
                                                                    _mm256_loadu_ps(pin[v] + o))),
                                                                _mm256_castps_pd(_mm256_loadu_ps(pin2[v] + o)), 1))
                          : _mm512_loadu_ps(pin[v] + o);
        const float *wk = wt + (size_t)k * CRMN_DK_R;
        for (int r = 0; r < R; ++r) {
            const __m512 wb = _mm512_set1_ps(wk[r]);
            for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(wb, xv[v], acc[r][v]);
        }
    }
    /* through a stack copy, as in crmn_dk_tile (keeps acc[][] in registers) */
    __m512 res[CRMN_DK_R * CRMN_DK5_V];
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) _mm512_store_ps((float *)&res[r * V + v], acc[r][v]);
    crmn_dk5_store(res, R, V, vec, rv, accum, PAIRS, out, ostride);
}

#define CRMN_DK5_TILES(R_, A_, P_)                                                                          \
    do {                                                                                                    \
        int t = 0;                                                                                          \
        for (; t + CRMN_DK5_V <= nvec; t += CRMN_DK5_V)                                                     \
            crmn_dk5_tile(in, koff, K, wt, vec + t, R_, CRMN_DK5_V, rv, A_, P_, out, ostride);              \
        if (nvec - t >= 2) {                                                                                \
            crmn_dk5_tile(in, koff, K, wt, vec + t, R_, 2, rv, A_, P_, out, ostride);                       \
            t += 2;                                                                                         \
        }                                                                                                   \
        if (nvec - t == 1) crmn_dk5_tile(in, koff, K, wt, vec + t, R_, 1, rv, A_, P_, out, ostride);        \
    } while (0)

#define CRMN_DK5_BY_ROWS(A_, P_)                 \
    do {                                         \
        if (rv > 4) CRMN_DK5_TILES(6, A_, P_);   \
        else if (rv > 2) CRMN_DK5_TILES(4, A_, P_); \
        else CRMN_DK5_TILES(2, A_, P_);          \
    } while (0)

/* crmn_dk_block with AVX-512 vectors: 16 columns of a row, or (pairs) two rows of up to 8 */
CRMN_DK5_TARGET static void crmn_dk5_block(const float *in, const int *koff, int K, const float *wt,
                                           const crmn_dk_vec *vec, int nvec, int rv, int accum, int pairs,
                                           float *out, npy_intp ostride)
{
    if (pairs) {
        if (accum) CRMN_DK5_BY_ROWS(1, 1);
        else CRMN_DK5_BY_ROWS(0, 1);
    } else {
        if (accum) CRMN_DK5_BY_ROWS(1, 0);
        else CRMN_DK5_BY_ROWS(0, 0);
    }
}

/* ---------------------------------------------------------------- grad weights */
#define CRMN_GW5_QMAX 12

/* acc[k][f..f+16*FV) += sum_p gt[p][..] * x[koff[k] + poff[p]] for the Q taps of the tile; the
 * second vector's filters are the next gyT block (gtfb floats on); mlast masks the last vector's
 * store to the filters that exist in acc's rows (Fp, a multiple of 8). */
CRMN_DK5_INLINE void crmn_gw5_tile(const float *xb, const int *koff, const int Q, const int FV, const float *gt,
                                   size_t gtfb, const int *poff, int npx, float *acc, int Fp, __mmask16 mlast)
{
    __m512 s[2][CRMN_GW5_QMAX];
    const float *px[CRMN_GW5_QMAX];
    for (int v = 0; v < FV; ++v)
        for (int q = 0; q < Q; ++q) s[v][q] = _mm512_setzero_ps();
    for (int q = 0; q < Q; ++q) px[q] = xb + koff[q];
    for (int p = 0; p < npx; ++p) {
        const int o = poff[p];
        const __m512 g0 = _mm512_loadu_ps(gt + (size_t)p * 16);
        const __m512 g1 = FV > 1 ? _mm512_loadu_ps(gt + gtfb + (size_t)p * 16) : g0;
        for (int q = 0; q < Q; ++q) {
            const __m512 xv = _mm512_set1_ps(px[q][o]);
            s[0][q] = _mm512_fmadd_ps(g0, xv, s[0][q]);
            if (FV > 1) s[1][q] = _mm512_fmadd_ps(g1, xv, s[1][q]);
        }
    }
    for (int q = 0; q < Q; ++q)
        for (int v = 0; v < FV; ++v) {
            float *o = acc + (size_t)q * Fp + 16 * v;
            const __mmask16 m = v == FV - 1 ? mlast : (__mmask16)0xFFFF;
            _mm512_mask_storeu_ps(o, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, o), s[v][q]));
        }
}

#define CRMN_GW5_QCASE(FV_)                                                                        \
    switch (Q) {                                                                                   \
    case 12: crmn_gw5_tile(xb, koff + k0, 12, FV_, gtb, gtfb, poff, npx, out, Fp, mlast); break;   \
    case 8: crmn_gw5_tile(xb, koff + k0, 8, FV_, gtb, gtfb, poff, npx, out, Fp, mlast); break;     \
    case 4: crmn_gw5_tile(xb, koff + k0, 4, FV_, gtb, gtfb, poff, npx, out, Fp, mlast); break;     \
    case 2: crmn_gw5_tile(xb, koff + k0, 2, FV_, gtb, gtfb, poff, npx, out, Fp, mlast); break;     \
    default: crmn_gw5_tile(xb, koff + k0, 1, FV_, gtb, gtfb, poff, npx, out, Fp, mlast); break;    \
    }

/* crmn_gw_group with 16-filter vectors: blocks of 32 filters (the last may hold 8-24) */
CRMN_DK5_TARGET static void crmn_gw5_group(const float *xb, const int *koff, int K, const float *gt, int Fp,
                                           size_t gtfb, const int *poff, int npx, float *acc)
{
    for (int f0 = 0; f0 < Fp; f0 += 32) {
        const float *gtb = gt + (size_t)(f0 / 16) * gtfb;
        const int nf = Fp - f0 < 32 ? Fp - f0 : 32;
        const __mmask16 mlast = crmn_dk5_mask(nf > 16 ? nf - 16 : nf);
        for (int k0 = 0; k0 < K;) {
            const int left = K - k0;
            const int Q = left >= 12 ? 12 : left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
            float *out = acc + (size_t)k0 * Fp + f0;
            if (nf > 16) {
                CRMN_GW5_QCASE(2)
            } else {
                CRMN_GW5_QCASE(1)
            }
            k0 += Q;
        }
    }
}

#else /* not x86 */

static int crmn_direct_avx512(void) { return 0; }

#endif /* CRMN_DIRECT_X86 */
#endif /* CRMN_CONV2D_DIRECT512_H */
