// What the step kernels share: float32 access to float32/bfloat16 tensors, a vectorisable tanh, row splitting and
// reading the step index. Each *_steps.cc file registers one cell's forward and backward step ops.
//
// Why these ops exist: on a CPU the recurrent loop's time, besides h @ U, goes to many small element-wise ops per
// step (each one a dispatch, a pass over memory and, in bfloat16, a scalar conversion per value). One op per step
// that reads its inputs once, computes in float32 and writes its outputs once does the same maths, faster.
// Built on first use by seqlab/engine/native_kernels.py; seqlab/engine/fused_layers.py falls back to plain TF ops without them.
#pragma once
#include <cstdint>
#include <cstring>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/util/work_sharder.h"

namespace seqlab {
using namespace tensorflow;
// Element access in float32 whatever the tensor's type; bfloat16 by bit shifts (round to nearest even on store)
// so that the compiler vectorises the loops below.
template <typename T> struct Elements;
template <> struct Elements<float> {
  using Stored = float;
  static inline float load(const Stored* data, int64_t k) { return data[k]; }
  static inline Stored from_float(float x) { return x; }
  static inline float rounded(float x) { return x; }
};
template <> struct Elements<Eigen::bfloat16> {
  using Stored = uint16_t;
  static inline float load(const Stored* data, int64_t k) {
    uint32_t bits = static_cast<uint32_t>(data[k]) << 16;
    float x;
    std::memcpy(&x, &bits, 4);
    return x;
  }
  static inline Stored from_float(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return static_cast<Stored>(bits >> 16);
  }
  static inline float rounded(float x) {
    uint32_t bits = static_cast<uint32_t>(from_float(x)) << 16;
    float y;
    std::memcpy(&y, &bits, 4);
    return y;
  }
};

// Eigen's rational tanh approximation (a few float32 ulp), written so that a loop of it vectorises.
inline float fast_tanh(float x) {
  const float bound = 7.99881172180175781f;
  x = x > bound ? bound : (x < -bound ? -bound : x);
  const float x2 = x * x;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * x;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return p / q;
}
inline float fast_sigmoid(float x) { return 0.5f + 0.5f * fast_tanh(0.5f * x); }

// Runs fn(first_row, end_row) over rows: inline for a step as small as 64 x 512 (waking a pool thread costs about
// what it saves there, measured), split over the op's intra-op threads for larger ones.
constexpr int64_t kInlineElements = 65536;
template <typename Fn> void over_rows(OpKernelContext* context, int64_t rows, int64_t units, Fn fn) {
  if (rows * units < kInlineElements) {
    fn(0, rows);
    return;
  }
  auto* workers = context->device()->tensorflow_cpu_worker_threads();
  Shard(workers->num_threads, workers->workers, rows, units * 80, fn);
}

// The ops take whole sequences and the step's index: reading step t in place saves a slicing op (a copy) per
// input per step.
inline void read_step(OpKernelContext* context, const Tensor& sequence, int64_t* step) {
  const Tensor& index = context->input(1);
  OP_REQUIRES(context, TensorShapeUtils::IsScalar(index.shape()),
              errors::InvalidArgument("the step index must be a scalar, got ", index.shape().DebugString()));
  *step = index.scalar<int32>()();
  OP_REQUIRES(context, sequence.dims() == 3 && *step >= 0 && *step < sequence.dim_size(0),
              errors::InvalidArgument("step ", *step, " is outside the sequence ", sequence.shape().DebugString()));
}

// The narrow (B, U) shape of a sequence's steps whose width is `gates` x U, and whether `tensor` has it.
inline TensorShape step_shape(const Tensor& sequence, int64_t gates) {
  return TensorShape({sequence.dim_size(1), sequence.dim_size(2) / gates});
}
inline TensorShape with_steps(TensorShape shape, int64_t steps) {
  shape.InsertDim(0, steps);
  return shape;
}

#define SEQLAB_REGISTER_STEPS(NAME, KERNEL)                                                                  \
  REGISTER_KERNEL_BUILDER(Name(NAME).Device(DEVICE_CPU).TypeConstraint<float>("T"), KERNEL<float>);         \
  REGISTER_KERNEL_BUILDER(Name(NAME).Device(DEVICE_CPU).TypeConstraint<Eigen::bfloat16>("T"),               \
                          KERNEL<Eigen::bfloat16>);

}  // namespace seqlab
