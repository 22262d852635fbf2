// The CPU emulator of the exact profile's GPU kernels: kernels.cu compiled as plain C++ (the CUDA names it uses
// defined here, each IEEE operation rounded once: built with -ffp-contract=off on SSE2 / AArch64 floats), run
// thread by thread over the launch grid. The kernels never synchronise threads, so running them one after the
// other computes what the GPU computes. The Rust side (src/gpu/emu.rs) calls verity_emu_launch with cuLaunchKernel's
// argument convention (an array of pointers to the argument values) and checks the kernel names of the table.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

struct vx_dim3 {
  unsigned x, y, z;
};
static thread_local vx_dim3 threadIdx, blockIdx, blockDim;

#define VX_GLOBAL static
#define VX_DEV static inline
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fsqrt_rn(float a) { return std::sqrt(a); }
static inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
static inline int __dp4a(int a, int b, int c) {
  for (int i = 0; i < 4; i++) c += int(int8_t(a >> (8 * i))) * int(int8_t(b >> (8 * i)));
  return c;
}
static inline void ld16(const void* p, int* o) { std::memcpy(o, p, 16); }

#include "kernels.cu"

namespace {
template <class T>
T arg(void** a, int i) {
  T v;
  std::memcpy(&v, a[i], sizeof(T));
  return v;
}

// Runs the blocks w, w + workers, ... of the grid, each thread of a block in turn.
template <class F>
void blocks(unsigned gx, unsigned gy, unsigned bx, unsigned w, unsigned workers, const F& f) {
  blockDim = {bx, 1, 1};
  for (uint64_t b = w; b < uint64_t(gx) * gy; b += workers)
    for (unsigned t = 0; t < bx; t++) {
      blockIdx = {unsigned(b % gx), unsigned(b / gx), 0};
      threadIdx = {t, 0, 0};
      f();
    }
}

// The grid's blocks spread over the CPU's cores (threads of a launch never depend on each other).
template <class F>
void grid_run(unsigned gx, unsigned gy, unsigned bx, const F& f) {
  unsigned workers = std::thread::hardware_concurrency();
  if (workers < 2 || uint64_t(gx) * gy < 2 * workers) return blocks(gx, gy, bx, 0, 1, f);
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < workers; w++) pool.emplace_back([=, &f] { blocks(gx, gy, bx, w, workers, f); });
  blocks(gx, gy, bx, 0, workers, f);
  for (auto& t : pool) t.join();
}

#define A(T, i) arg<T>(a, i)
#define P(T, i) arg<T*>(a, i)
void mm(int ty, void** a) {
  auto call = [&](auto k) {
    k(P(const float, 0), P(const float, 1), P(const int8_t, 2), P(const uint8_t, 3), A(int, 4), A(int, 5),
      P(const int8_t, 6), P(const float, 7), P(const float, 8), P(const int, 9), P(const int, 10), A(int, 11),
      P(float, 12), A(int, 13), A(int, 14), A(int, 15), P(const float, 16));
  };
  switch (ty) {
    case 0: call(vx_mm_q4_1); break;
    case 1: call(vx_mm_q8_0); break;
    case 2: call(vx_mm_q4f); break;
    default: call(vx_mm_q6k); break;
  }
}

void run(int id, void** a) {
  switch (id) {
    case 0:
      vx_rmsnorm_quant(P(const float, 0), P(const int, 1), A(int, 2), A(int, 3), P(const float, 4), A(float, 5),
                       P(int8_t, 6), P(float, 7), P(float, 8), P(int, 9), P(int, 10));
      break;
    case 1:
      vx_quantize(P(const float, 0), A(int, 1), A(int, 2), P(int8_t, 3), P(float, 4), P(float, 5), P(int, 6),
                  P(int, 7));
      break;
    case 2:
      vx_silu_mul_quant(P(const float, 0), A(int, 1), A(int, 2), P(int8_t, 3), P(float, 4), P(float, 5), P(int, 6),
                        P(int, 7));
      break;
    case 3: case 4: case 5: case 6: mm(id - 3, a); break;
    case 7:
      vx_rope_store(P(float, 0), A(int, 1), A(int, 2), P(const int, 3), P(const int, 4), P(const float, 5),
                    P(const float, 6), A(int, 7), A(int, 8), A(int, 9), A(int, 10), P(float, 11), P(float, 12),
                    A(int, 13), A(int, 14), A(int, 15));
      break;
    case 8:
      vx_att_scores(P(const float, 0), A(int, 1), A(int, 2), P(const int, 3), P(const int, 4), P(const float, 5),
                    P(float, 6), A(int, 7), A(int, 8), A(int, 9), A(int, 10), A(int, 11), A(int, 12), A(float, 13));
      break;
    case 9: vx_att_softmax(P(float, 0), A(int, 1), P(const int, 2), A(int, 3), A(int, 4)); break;
    case 10:
      vx_att_out(P(const float, 0), A(int, 1), P(const int, 2), P(const int, 3), P(const float, 4), P(float, 5),
                 A(int, 6), A(int, 7), A(int, 8), A(int, 9), A(int, 10), A(int, 11));
      break;
    case 11: vx_argmax_part(P(const float, 0), A(int, 1), A(int, 2), P(float, 3), P(int, 4)); break;
    case 12: vx_argmax_final(P(const float, 0), P(const int, 1), A(int, 2), A(int, 3), P(int, 4)); break;
  }
}

const char* const NAMES[] = {"vx_rmsnorm_quant", "vx_quantize", "vx_silu_mul_quant", "vx_mm_q4_1", "vx_mm_q8_0",
                             "vx_mm_q4f", "vx_mm_q6k", "vx_rope_store", "vx_att_scores", "vx_att_softmax",
                             "vx_att_out", "vx_argmax_part", "vx_argmax_final"};
}  // namespace

extern "C" {
// The name of kernel `id` (null past the last), for the Rust side to check its table against.
const char* verity_emu_kernel_name(int id) {
  return id >= 0 && id < int(sizeof(NAMES) / sizeof(NAMES[0])) ? NAMES[id] : nullptr;
}

// Runs kernel `id` over a grid of gx × gy blocks of bx threads with cuLaunchKernel's `args`.
void verity_emu_launch(int id, unsigned gx, unsigned gy, unsigned bx, void** args) {
  grid_run(gx, gy, bx, [&] { run(id, args); });
}
}
