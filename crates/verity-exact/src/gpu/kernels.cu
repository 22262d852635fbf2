// The exact profile's GPU kernels (oracle/NUMERICS.md, spec verity-exact-v1): the same float operations in the
// same order as the CPU reference (crates/verity-exact/src/{math,quant,matmul}), so every logit is the same bits.
// Each float operation is an explicit IEEE round-to-nearest intrinsic (__fadd_rn, __fmul_rn, ...), which nvcc
// never contracts into a fused multiply-add; the file is also compiled with --fmad=false. Integer block sums use
// __dp4a (exact). Every thread computes its outputs whole (no cross-thread float reduction), so a value never
// depends on the launch shape, the batch or its place in it.
//
// The same source is compiled as C++ for the CPU emulator (emu.cpp provides the CUDA names), which the crate's
// tests run against the CPU engine bit for bit.
#ifdef __CUDACC__
#include <stdint.h>
#define VX_GLOBAL extern "C" __global__
#define VX_DEV __device__ __forceinline__
VX_DEV void ld16(const void* p, int* o) {
  int4 v = *reinterpret_cast<const int4*>(p);
  o[0] = v.x; o[1] = v.y; o[2] = v.z; o[3] = v.w;
}
#endif

// ── §5 functions ──

VX_DEV float vx_exp(float x) {
  if (x != x) return x;
  if (x > 88.72284f) return __int_as_float(0x7f800000);
  if (x < -87.33654f) return 0.0f;
  const float L = __int_as_float(0x3fb8aa3b), H = __int_as_float(0x3f317200), LO = __int_as_float(0x35bfbe8e);
  float n = rintf(__fmul_rn(x, L));
  float r = __fsub_rn(__fsub_rn(x, __fmul_rn(n, H)), __fmul_rn(n, LO));
  // 1, 1, 1/2 and the f32 nearest 1/6, 1/24, 1/120, 1/720 (bit patterns: no compiler's constant folding involved).
  const float c[7] = {1.0f, 1.0f, 0.5f, __int_as_float(0x3e2aaaab), __int_as_float(0x3d2aaaab),
                      __int_as_float(0x3c088889), __int_as_float(0x3ab60b61)};
  float p = c[6];
  for (int i = 5; i >= 0; i--) p = __fadd_rn(__fmul_rn(p, r), c[i]);
  int ni = (int)n;
  if (ni > 127) return __fmul_rn(__fmul_rn(p, __int_as_float(254 << 23)), 2.0f);
  return __fmul_rn(p, __int_as_float((ni + 127) << 23));
}

VX_DEV float vx_silu(float x) { return __fdiv_rn(x, __fadd_rn(1.0f, vx_exp(-x))); }

VX_DEV float vx_combine8(const float* l) {
  return __fadd_rn(__fadd_rn(__fadd_rn(l[0], l[1]), __fadd_rn(l[2], l[3])),
                   __fadd_rn(__fadd_rn(l[4], l[5]), __fadd_rn(l[6], l[7])));
}

// dot8 (§5.3): lane i % 8 accumulates a_i × b_i in increasing i from +0.
VX_DEV float vx_dot8(const float* a, const float* b, int n) {
  float l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < n; i += 8)
    for (int j = 0; j < 8 && i + j < n; j++) l[j] = __fadd_rn(l[j], __fmul_rn(a[i + j], b[i + j]));
  return vx_combine8(l);
}

// §3: quantizes 32 values into q, returns d; writes Σq and Σ_{i<16} q, and s = d × f32(Σq).
VX_DEV void vx_quant_block(const float* v, int8_t* q, float* d, float* s, int* qsum, int* qlo) {
  float amax = 0.0f;
  for (int i = 0; i < 32; i++) {
    float a = fabsf(v[i]);
    if (a > amax) amax = a;
  }
  if (amax == 0.0f) {
    for (int i = 0; i < 32; i++) q[i] = 0;
    *d = 0.0f; *s = 0.0f; *qsum = 0; *qlo = 0;
    return;
  }
  float dd = __fdiv_rn(amax, 127.0f), id = __fdiv_rn(127.0f, amax);
  int sum = 0, lo = 0;
  for (int i = 0; i < 32; i++) {
    float r = rintf(__fmul_rn(v[i], id));
    int qi = (r != r) ? 0 : (r < -127.0f ? -127 : (r > 127.0f ? 127 : (int)r));
    q[i] = (int8_t)qi;
    sum += qi;
    if (i < 16) lo += qi;
  }
  *d = dd; *s = __fmul_rn(dd, (float)sum); *qsum = sum; *qlo = lo;
}

// Quantized activations (the q, d, s, qsum, qlo parameters below): rows × nb blocks, each 32 int8 values q, its
// scale d, s = d × Σq, Σq and the Σ of its first 16 values.

// RMSNorm (§5.4) of row rowmap[r] (or r) of x (width e) by g, quantized: one thread per (row, block).
VX_GLOBAL void vx_rmsnorm_quant(const float* x, const int* rowmap, int rows, int e, const float* g, float eps,
                                int8_t* q, float* d, float* s, int* qsum, int* qlo) {
  int nb = e / 32, t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= rows * nb) return;
  int r = t / nb, b = t % nb;
  const float* xr = x + (int64_t)(rowmap ? rowmap[r] : r) * e;
  float ss = vx_dot8(xr, xr, e);
  float rr = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(__fdiv_rn(ss, (float)e), eps)));
  float v[32];
  for (int i = 0; i < 32; i++) v[i] = __fmul_rn(__fmul_rn(xr[b * 32 + i], rr), g[b * 32 + i]);
  vx_quant_block(v, q + (int64_t)t * 32, d + t, s + t, qsum + t, qlo + t);
}

// §3 on rows × k values: one thread per (row, block).
VX_GLOBAL void vx_quantize(const float* x, int rows, int k, int8_t* q, float* d, float* s, int* qsum, int* qlo) {
  int nb = k / 32, t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= rows * nb) return;
  vx_quant_block(x + (int64_t)t * 32, q + (int64_t)t * 32, d + t, s + t, qsum + t, qlo + t);
}

// u = silu(gate) × up of gu = [rows][gate (nff) | up (nff)], quantized (§6.5): one thread per (row, block).
VX_GLOBAL void vx_silu_mul_quant(const float* gu, int rows, int nff, int8_t* q, float* d, float* s, int* qsum,
                                 int* qlo) {
  int nb = nff / 32, t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= rows * nb) return;
  int r = t / nb, b = t % nb;
  const float* gr = gu + (int64_t)r * 2 * nff + b * 32;
  float v[32];
  for (int i = 0; i < 32; i++) v[i] = __fmul_rn(vx_silu(gr[i]), gr[nff + i]);
  vx_quant_block(v, q + (int64_t)t * 32, d + t, s + t, qsum + t, qlo + t);
}

// ── §4 matrix product ──
// Weights block-major: block b of column j at index b × n + j of wd (scale, f32), wm (offset, f32), wsc (Q6K's two
// sub-scales, i8) and wqs (quants, QB bytes). One thread per (column, group of up to 4 rows); each row's element
// is the spec's chain acc = ((+0 + T_0) + T_1) + ... over the blocks in order.
enum { TY_Q4_1 = 0, TY_Q8_0 = 1, TY_Q4F = 2, TY_Q6K = 3 };
enum { MODE_STORE = 0, MODE_BIAS = 1, MODE_ADD = 2 };
#define VX_ROWS 4

template <int TY>
VX_DEV void vx_matmul(const float* wd, const float* wm, const int8_t* wsc, const uint8_t* wqs, int n, int nb,
                      const int8_t* xq, const float* xd, const float* xs, const int* xqsum, const int* xqlo, int rows,
                      float* out, int ld, int col0, int mode, const float* bias) {
  int j = blockIdx.x * blockDim.x + threadIdx.x, r0 = blockIdx.y * VX_ROWS;
  if (j >= n) return;
  int nr = rows - r0 < VX_ROWS ? rows - r0 : VX_ROWS;
  const int QB = (TY == TY_Q4_1 || TY == TY_Q4F) ? 16 : 32;
  float acc[VX_ROWS] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int b = 0; b < nb; b++) {
    int64_t wi = (int64_t)b * n + j;
    int w[8];
    ld16(wqs + wi * QB, w);
    if (QB == 32) ld16(wqs + wi * QB + 16, w + 4);
    float dw = wd[wi];
    float mw = (TY == TY_Q4_1 || TY == TY_Q4F) ? wm[wi] : 0.0f;
    int sc0 = 0, sc1 = 0;
    if (TY == TY_Q6K) { sc0 = wsc[2 * wi]; sc1 = wsc[2 * wi + 1]; }
    for (int rr = 0; rr < nr; rr++) {
      int64_t xb = (int64_t)(r0 + rr) * nb + b;
      int x[8];
      ld16(xq + xb * 32, x);
      ld16(xq + xb * 32 + 16, x + 4);
      int sum = 0;
      if (TY == TY_Q4_1 || TY == TY_Q4F) {
        for (int g = 0; g < 4; g++) {
          sum = __dp4a(w[g] & 0x0F0F0F0F, x[g], sum);
          sum = __dp4a((w[g] >> 4) & 0x0F0F0F0F, x[4 + g], sum);
        }
      } else if (TY == TY_Q8_0) {
        for (int g = 0; g < 8; g++) sum = __dp4a(w[g], x[g], sum);
      } else {
        int ulo = 0, uhi = 0;
        for (int g = 0; g < 4; g++) ulo = __dp4a(w[g], x[g], ulo);
        for (int g = 4; g < 8; g++) uhi = __dp4a(w[g], x[g], uhi);
        int xlo = xqlo[xb], xhi = xqsum[xb] - xlo;
        sum = sc0 * (ulo - 32 * xlo) + sc1 * (uhi - 32 * xhi);
      }
      float u = __fmul_rn((float)sum, __fmul_rn(dw, xd[xb]));
      if (TY == TY_Q4_1 || TY == TY_Q4F) u = __fadd_rn(u, __fmul_rn(mw, xs[xb]));
      acc[rr] = __fadd_rn(acc[rr], u);
    }
  }
  for (int rr = 0; rr < nr; rr++) {
    float* o = out + (int64_t)(r0 + rr) * ld + col0 + j;
    if (mode == MODE_BIAS) *o = __fadd_rn(acc[rr], bias[col0 + j]);
    else if (mode == MODE_ADD) *o = __fadd_rn(*o, acc[rr]);
    else *o = acc[rr];
  }
}

#define VX_MM(name, TY)                                                                                            \
  VX_GLOBAL void name(const float* wd, const float* wm, const int8_t* wsc, const uint8_t* wqs, int n, int nb,     \
                      const int8_t* xq, const float* xd, const float* xs, const int* xqsum, const int* xqlo,       \
                      int rows, float* out, int ld, int col0, int mode, const float* bias) {                       \
    vx_matmul<TY>(wd, wm, wsc, wqs, n, nb, xq, xd, xs, xqsum, xqlo, rows, out, ld, col0, mode, bias);            \
  }
VX_MM(vx_mm_q4_1, TY_Q4_1)
VX_MM(vx_mm_q8_0, TY_Q8_0)
VX_MM(vx_mm_q4f, TY_Q4F)
VX_MM(vx_mm_q6k, TY_Q6K)

// ── §6.3 RoPE and the KV cache ──
// qkv = [rows][q (H×D) | k (G×D) | v (G×D)] (row stride ld). Rotates q in place and writes the rotated k and v
// to the caches at kc[((slot × L + layer) × cap + pos) × G×D + ...]. One thread per (row, unit): units are the
// H×D/2 q pairs, then G×D/2 k pairs, then G×D v values.
VX_GLOBAL void vx_rope_store(float* qkv, int ld, int rows, const int* pos, const int* slot, const float* cosv,
                             const float* sinv, int H, int G, int D, int neox, float* kc, float* vc, int layer, int L,
                             int cap) {
  int half = D / 2, units = H * half + G * half + G * D;
  int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= (int64_t)rows * units) return;
  int r = (int)(t / units), u = (int)(t % units), p = pos[r], kvw = G * D;
  float* row = qkv + (int64_t)r * ld;
  float* kdst = kc + (((int64_t)slot[r] * L + layer) * cap + p) * kvw;
  if (u >= H * half + G * half) {
    int i = u - H * half - G * half;
    vc[(((int64_t)slot[r] * L + layer) * cap + p) * kvw + i] = row[H * D + kvw + i];
    return;
  }
  bool isk = u >= H * half;
  int hu = isk ? u - H * half : u, head = hu / half, i = hu % half;
  float* hd = row + (isk ? H * D : 0) + head * D;
  int ia = neox ? i : 2 * i, ib = neox ? i + half : 2 * i + 1;
  float c = cosv[p * half + i], s = sinv[p * half + i], a = hd[ia], b = hd[ib];
  float na = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s)), nb = __fadd_rn(__fmul_rn(a, s), __fmul_rn(b, c));
  if (isk) {
    kdst[head * D + ia] = na;
    kdst[head * D + ib] = nb;
  } else {
    hd[ia] = na;
    hd[ib] = nb;
  }
}

// ── §6.4 attention ──
// Scores a_t = dot8(q, k_t) × scale into sc[(r × H + h) × cap + t] for t ≤ pos[r]: one thread per (row × head,
// t): blockIdx.x is the row × head, blockIdx.y × blockDim.x + threadIdx.x the position.
VX_GLOBAL void vx_att_scores(const float* qkv, int ld, int rows, const int* pos, const int* slot, const float* kc,
                             float* sc, int H, int G, int D, int layer, int L, int cap, float scale) {
  int t = blockIdx.y * blockDim.x + threadIdx.x, rh = blockIdx.x;
  int r = rh / H, h = rh % H;
  if (r >= rows || t > pos[r]) return;
  int kvw = G * D, kvh = h / (H / G);
  const float* q = qkv + (int64_t)r * ld + h * D;
  const float* k = kc + (((int64_t)slot[r] * L + layer) * cap + t) * kvw + kvh * D;
  sc[(int64_t)rh * cap + t] = __fmul_rn(vx_dot8(q, k, D), scale);
}

// softmax (§5.5) of each (row, head)'s scores t = 0..pos[r], in place: one thread per (row, head).
VX_GLOBAL void vx_att_softmax(float* sc, int rows, const int* pos, int H, int cap) {
  int rh = blockIdx.x * blockDim.x + threadIdx.x;
  if (rh >= rows * H) return;
  int n = pos[rh / H] + 1;
  float* v = sc + (int64_t)rh * cap;
  float m = -__int_as_float(0x7f800000);
  for (int t = 0; t < n; t++)
    if (v[t] > m) m = v[t];
  float l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int t = 0; t < n; t++) {
    float e = vx_exp(__fsub_rn(v[t], m));
    v[t] = e;
    l[t % 8] = __fadd_rn(l[t % 8], e);
  }
  float z = vx_combine8(l);
  for (int t = 0; t < n; t++) v[t] = __fdiv_rn(v[t], z);
}

// o_i = ((+0 + w_0 × v_0,i) + w_1 × v_1,i) + ... into out[r × H×D + h × D + i]: one thread per (row × head, i).
VX_GLOBAL void vx_att_out(const float* sc, int rows, const int* pos, const int* slot, const float* vc, float* out,
                          int H, int G, int D, int layer, int L, int cap) {
  int i = threadIdx.x, rh = blockIdx.x;
  if (rh >= rows * H || i >= D) return;
  int r = rh / H, h = rh % H, n = pos[r] + 1, kvw = G * D, kvh = h / (H / G);
  const float* w = sc + (int64_t)rh * cap;
  const float* v = vc + ((int64_t)slot[r] * L + layer) * cap * kvw + kvh * D + i;
  float o = 0.0f;
  for (int t = 0; t < n; t++) o = __fadd_rn(o, __fmul_rn(w[t], v[(int64_t)t * kvw]));
  out[(int64_t)r * H * D + h * D + i] = o;
}

// ── §7 greedy: the first maximum of each row (−1 for a row with a NaN) ──
#define VX_CHUNK 1024
// Per (row, chunk of VX_CHUNK): its first maximum (value, index), or index −1 if it holds a NaN.
VX_GLOBAL void vx_argmax_part(const float* x, int rows, int n, float* pv, int* pi) {
  int nc = (n + VX_CHUNK - 1) / VX_CHUNK, t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= rows * nc) return;
  int r = t / nc, c = t % nc, lo = c * VX_CHUNK, hi = lo + VX_CHUNK < n ? lo + VX_CHUNK : n;
  const float* v = x + (int64_t)r * n;
  float best = v[lo];
  int bi = lo;
  for (int i = lo; i < hi; i++) {
    if (v[i] != v[i]) { bi = -1; break; }
    if (v[i] > best) { best = v[i]; bi = i; }
  }
  pv[t] = best;
  pi[t] = bi;
}

// Per row: the first chunk maximum (chunks in order, strictly greater wins), or −1 if any chunk saw a NaN.
VX_GLOBAL void vx_argmax_final(const float* pv, const int* pi, int rows, int nc, int* out) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  int bi = pi[(int64_t)r * nc];
  float best = pv[(int64_t)r * nc];
  for (int c = 0; c < nc && bi >= 0; c++) {
    int i = pi[(int64_t)r * nc + c];
    if (i < 0) bi = -1;
    else if (pv[(int64_t)r * nc + c] > best) { best = pv[(int64_t)r * nc + c]; bi = i; }
  }
  out[r] = bi;
}
