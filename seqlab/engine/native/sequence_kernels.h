// What the whole-sequence ops share: the product by the recurrent weights (AVX-512: BF16 dot products or float32
// fused multiply-adds) and a team
// of threads that stays in the op for the whole sequence.
//
// Why: with the step ops (step_kernels.h), a bfloat16 step is still two TF ops, h @ U and the element-wise step,
// and h @ U at 64 x 512 x 512 costs ~180 us in TensorFlow (a oneDNN call whose two threads are woken for each
// product) while the arithmetic takes ~75 us on two cores. An op that runs all T steps itself keeps its threads
// spinning between steps (one barrier per step), multiplies by U packed once for the sequence, and applies each
// step's element-wise maths to the product while it is in cache. Only where the compiler targets AVX-512 BF16
// (-march=native on such a CPU): elsewhere these ops are not built and seqlab/engine/fused_layers.py runs per-step ops.
#pragma once
#if defined(__AVX512BF16__)
#include <immintrin.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "step_kernels.h"

namespace seqlab {
// A barrier for a handful of threads that spin (a step is tens of microseconds: sleeping would cost more).
class SpinBarrier {
 public:
  explicit SpinBarrier(int threads) : threads_(threads) {}
  void wait() {
    if (threads_ == 1) return;
    const int generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == threads_ - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(generation + 1, std::memory_order_release);
      return;
    }
    for (int spins = 0; generation_.load(std::memory_order_acquire) == generation; ++spins) {
      if (spins < 2000) {  // ~50 us: longer than a step's imbalance
        _mm_pause();
      } else {
        std::this_thread::yield();  // more threads than cores: let the others run
      }
    }
  }

 private:
  const int threads_;
  std::atomic<int> arrived_{0};
  std::atomic<int> generation_{0};
};

// How many threads an op runs: the op's intra-op threads, each with at least 32 units, and one where a step's
// product is too small to share (under ~1M multiply-adds a barrier costs more than half the product saves).
inline int team_size(OpKernelContext* context, int64_t rows, int64_t units, int64_t gates) {
  const int available = context->device()->tensorflow_cpu_worker_threads()->num_threads;
  if (rows * units * units * gates < (int64_t{1} << 20)) return 1;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(available, units / 32)));
}

// Helper threads kept for the life of the process (one set per process: a forked child starts its own). Threads
// created for each op sometimes started on the caller's core and the first barriers waited for the scheduler to
// move one (bfloat16 SimpleRNN steps 0.14 s or 0.19 s at random, measured); kept threads are already spread.
class Helpers {
 public:
  static Helpers& of_this_process() {
    static std::mutex guard;
    static Helpers* helpers = nullptr;
    std::lock_guard<std::mutex> lock(guard);
    if (helpers == nullptr || helpers->process_ != getpid()) helpers = new Helpers();  // never freed: threads wait
    return *helpers;
  }
  // Runs job(0) here and job(1..threads-1) on helpers; false (nothing run) while another op has them.
  bool try_run(int threads, const std::function<void(int)>& job) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (; started_ < threads - 1; ++started_) std::thread([this, index = started_ + 1] { serve(index); }).detach();
      job_ = &job;
      wanted_ = remaining_ = threads - 1;
      ++generation_;
    }
    wake_.notify_all();
    job(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return remaining_ == 0; });
    return true;
  }

 private:
  void serve(int index) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (index > wanted_) continue;
      const std::function<void(int)>* job = job_;
      lock.unlock();
      (*job)(index);
      lock.lock();
      if (--remaining_ == 0) done_.notify_all();
    }
  }
  const pid_t process_ = getpid();
  std::mutex busy_, mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int started_ = 0, wanted_ = 0, remaining_ = 0;
  uint64_t generation_ = 0;
};

// Runs body(thread, team, barrier) for thread < team, the calling thread being 0: team = `threads`, or 1 where
// the helpers are busy with another op.
template <typename Body> void run_team(int threads, Body body) {
  SpinBarrier barrier(threads);
  const std::function<void(int)> job = [&](int thread) { body(thread, threads, barrier); };
  if (threads > 1 && Helpers::of_this_process().try_run(threads, job)) return;
  SpinBarrier alone(1);
  body(0, 1, alone);
}

// Thread `thread`'s share [first, end) of `units`, in blocks of 16 (one AVX-512 register of float32).
inline std::pair<int64_t, int64_t> unit_share(int64_t units, int thread, int threads) {
  const int64_t blocks = units / 16;
  return {blocks * thread / threads * 16, blocks * (thread + 1) / threads * 16};
}

// How each type multiplies: bfloat16 takes B's rows in pairs (one 32-bit word holds B[2p][c] in its low half and
// B[2p + 1][c]) for AVX-512 BF16's dot products of pairs; float32 takes them one by one for fused multiply-adds.
template <typename T> struct Words;
template <> struct Words<Eigen::bfloat16> {
  using Stored = uint16_t;
  using Word = uint32_t;
  static constexpr int kRows = 2;  // rows of B in a word
};
template <> struct Words<float> {
  using Stored = float;
  using Word = float;
  static constexpr int kRows = 1;
};

template <typename T> inline const typename Words<T>::Stored* values(const Tensor& tensor) {
  return reinterpret_cast<const typename Words<T>::Stored*>(tensor.flat<T>().data());
}
template <typename T> inline typename Words<T>::Stored* values(Tensor* tensor) {
  return reinterpret_cast<typename Words<T>::Stored*>(tensor->flat<T>().data());
}

// B (k x n, row-major) as the products read it: packed[w * n + c] holds B's rows kRows*w.. of column c.
// `transposed`: b holds Bᵀ (n x k). Words w in [first, end) only, so that a team packs in parallel.
template <typename T>
inline void pack_words(const typename Words<T>::Stored* b, int64_t k, int64_t n, bool transposed, int64_t first,
                       int64_t end, typename Words<T>::Word* packed) {
  constexpr int kRows = Words<T>::kRows;
  for (int64_t w = first; w < end; ++w) {
    for (int64_t column = 0; column < n; ++column) {
      typename Words<T>::Word word{};
      for (int i = 0; i < kRows; ++i) {
        const auto value = transposed ? b[column * k + kRows * w + i] : b[(kRows * w + i) * n + column];
        if constexpr (kRows == 1) {
          word = value;
        } else {
          word |= static_cast<uint32_t>(value) << (16 * i);
        }
      }
      packed[w * n + column] = word;
    }
  }
}

// z[r][c..c+16*NZ) = Σ_k a[r][k] B[k][c..] for ROWS rows: ROWS x NZ float32 accumulators in registers.
template <typename T, int ROWS, int NZ>
inline void product_tile(const typename Words<T>::Stored* a, int64_t lda, int64_t depth,
                         const typename Words<T>::Word* packed, int64_t ldb, float* z, int64_t ldz) {
  __m512 sums[ROWS][NZ];
  for (int r = 0; r < ROWS; ++r)
    for (int j = 0; j < NZ; ++j) sums[r][j] = _mm512_setzero_ps();
  for (int64_t w = 0; w < depth; ++w) {
    if constexpr (Words<T>::kRows == 2) {
      __m512bh columns[NZ];
      for (int j = 0; j < NZ; ++j) columns[j] = (__m512bh)_mm512_loadu_si512(packed + w * ldb + 16 * j);
      for (int r = 0; r < ROWS; ++r) {
        uint32_t pair;
        std::memcpy(&pair, a + r * lda + 2 * w, 4);
        const __m512bh row = (__m512bh)_mm512_set1_epi32(static_cast<int>(pair));
        for (int j = 0; j < NZ; ++j) sums[r][j] = _mm512_dpbf16_ps(sums[r][j], row, columns[j]);
      }
    } else {
      __m512 columns[NZ];
      for (int j = 0; j < NZ; ++j) columns[j] = _mm512_loadu_ps(packed + w * ldb + 16 * j);
      for (int r = 0; r < ROWS; ++r) {
        const __m512 row = _mm512_set1_ps(a[r * lda + w]);
        for (int j = 0; j < NZ; ++j) sums[r][j] = _mm512_fmadd_ps(row, columns[j], sums[r][j]);
      }
    }
  }
  for (int r = 0; r < ROWS; ++r)
    for (int j = 0; j < NZ; ++j) _mm512_storeu_ps(z + r * ldz + 16 * j, sums[r][j]);
}

template <typename T, int ROWS>
inline void product_rows(int nz, const typename Words<T>::Stored* a, int64_t lda, int64_t depth,
                         const typename Words<T>::Word* packed, int64_t ldb, float* z, int64_t ldz) {
  switch (nz) {
    case 4: return product_tile<T, ROWS, 4>(a, lda, depth, packed, ldb, z, ldz);
    case 3: return product_tile<T, ROWS, 3>(a, lda, depth, packed, ldb, z, ldz);
    case 2: return product_tile<T, ROWS, 2>(a, lda, depth, packed, ldb, z, ldz);
    default: return product_tile<T, ROWS, 1>(a, lda, depth, packed, ldb, z, ldz);
  }
}

// z[:, first:end) = a (rows x k, leading dimension lda) @ B[:, first:end), B packed by pack_words (depth = k /
// kRows words, ldb columns); z has leading dimension ldz; first and end are multiples of 16. Column blocks of 64
// outside, row blocks of 6 inside: a block of B (depth x 64) stays in cache while every row block uses it.
template <typename T>
inline void packed_product(const typename Words<T>::Stored* a, int64_t lda, int64_t rows, int64_t depth,
                           const typename Words<T>::Word* packed, int64_t ldb, int64_t first, int64_t end, float* z,
                           int64_t ldz) {
  for (int64_t column = first; column < end; column += 64) {
    const int nz = static_cast<int>(std::min<int64_t>(64, end - column) / 16);
    for (int64_t row = 0; row < rows; row += 6) {
      const auto* a_rows = a + row * lda;
      const auto* b = packed + column;
      float* z_rows = z + row * ldz + column;
      switch (std::min<int64_t>(6, rows - row)) {
        case 6: product_rows<T, 6>(nz, a_rows, lda, depth, b, ldb, z_rows, ldz); break;
        case 5: product_rows<T, 5>(nz, a_rows, lda, depth, b, ldb, z_rows, ldz); break;
        case 4: product_rows<T, 4>(nz, a_rows, lda, depth, b, ldb, z_rows, ldz); break;
        case 3: product_rows<T, 3>(nz, a_rows, lda, depth, b, ldb, z_rows, ldz); break;
        case 2: product_rows<T, 2>(nz, a_rows, lda, depth, b, ldb, z_rows, ldz); break;
        default: product_rows<T, 1>(nz, a_rows, lda, depth, b, ldb, z_rows, ldz); break;
      }
    }
  }
}

// The recurrent kernel U (units x gates*units) packed for h @ U (forward) or dz @ Uᵀ (backward), by the team.
template <typename T> class PackedKernel {
 public:
  PackedKernel(const Tensor& kernel, bool transposed)
      : kernel_(values<T>(kernel)), rows_(kernel.dim_size(0)), columns_(kernel.dim_size(1)),
        transposed_(transposed), packed_(rows_ * columns_ / Words<T>::kRows) {}
  void pack(int thread, int threads) {
    pack_words<T>(kernel_, contracted(), columns(), transposed_, depth() * thread / threads,
                  depth() * (thread + 1) / threads, packed_.data());
  }
  // z[:, g*U + first : g*U + end) for every gate g < gates (the share of a thread) = a @ the packed matrix.
  void gate_products(const typename Words<T>::Stored* a, int64_t rows, int64_t gates, int64_t units,
                     std::pair<int64_t, int64_t> share, float* z) const {
    for (int64_t gate = 0; gate < gates; ++gate) {
      packed_product<T>(a, contracted(), rows, depth(), packed_.data(), columns(), gate * units + share.first,
                        gate * units + share.second, z, columns());
    }
  }

 private:
  int64_t contracted() const { return transposed_ ? columns_ : rows_; }  // the product's inner dimension
  int64_t columns() const { return transposed_ ? rows_ : columns_; }  // the product's output columns
  int64_t depth() const { return contracted() / Words<T>::kRows; }
  const typename Words<T>::Stored* kernel_;
  const int64_t rows_, columns_;
  const bool transposed_;
  std::vector<typename Words<T>::Word> packed_;
};

// Shapes the whole-sequence ops accept: (T, B, gates*U) sequences with U a multiple of 16.
inline bool sequence_shape_ok(const Tensor& sequence, const Tensor& kernel, int64_t gates) {
  return sequence.dims() == 3 && kernel.dims() == 2 && kernel.dim_size(1) == gates * kernel.dim_size(0) &&
         sequence.dim_size(2) == gates * kernel.dim_size(0) && kernel.dim_size(0) % 16 == 0;
}
inline TensorShape state_shape(const Tensor& sequence, const Tensor& kernel) {
  return TensorShape({sequence.dim_size(1), kernel.dim_size(0)});
}

}  // namespace seqlab
#endif  // __AVX512BF16__
