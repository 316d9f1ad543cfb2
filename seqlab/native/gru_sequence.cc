// The GRU's whole-sequence ops in bfloat16 (reset after the recurrent product; gates z, r, h); see
// sequence_kernels.h. Same maths and roundings as the step ops in gru_steps.cc, which the tests hold these to.
#include "sequence_kernels.h"
#if defined(__AVX512BF16__)

namespace seqlab {

REGISTER_OP("SeqlabGruForwardSequence")
    .Input("projected: bfloat16")  // (T, B, 3U): x_t @ W + b_x for every step
    .Input("kernel: bfloat16")  // (U, 3U): the recurrent kernel
    .Input("recurrent_bias: bfloat16")  // (3U)
    .Input("h_first: bfloat16")  // (B, U)
    .Output("outputs: bfloat16")  // (T, B, U): h after every step
    .Output("saved: bfloat16")  // (T, B, 4U): every step's z, r, candidate, h_{t-1} @ U_h + b_h
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      shape_inference::ShapeHandle narrow;
      TF_RETURN_IF_ERROR(c->Concatenate(c->Vector(c->Dim(c->input(0), 0)), c->input(3), &narrow));
      auto width = c->Dim(c->input(3), 1);
      c->set_output(0, narrow);
      c->set_output(1, c->MakeShape({c->Dim(c->input(0), 0), c->Dim(c->input(0), 1),
                                     c->ValueKnown(width) ? c->MakeDim(4 * c->Value(width)) : c->UnknownDim()}));
      return OkStatus();
    });

class GruForwardSequence : public OpKernel {
 public:
  explicit GruForwardSequence(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    const Tensor &projected = context->input(0), &kernel = context->input(1), &bias = context->input(2);
    const TensorShape state = state_shape(projected, kernel);
    OP_REQUIRES(context, sequence_shape_ok(projected, kernel, 3) && context->input(3).shape() == state &&
                             bias.shape() == TensorShape({kernel.dim_size(1)}),
                errors::InvalidArgument("SeqlabGruForwardSequence: shapes ", projected.shape().DebugString(), ", ",
                                        kernel.shape().DebugString(), ", ", bias.shape().DebugString(), ", ",
                                        context->input(3).shape().DebugString()));
    const int64_t steps = projected.dim_size(0), rows = projected.dim_size(1), units = kernel.dim_size(0);
    Tensor *outputs = nullptr, *saved = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, with_steps(state, steps), &outputs));
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape({steps, rows, 4 * units}), &saved));
    const int64_t narrow = rows * units;
    const bf16_bits *p = bits(projected), *b = bits(bias), *h0 = bits(context->input(3));
    bf16_bits *h = bits(outputs), *s = bits(saved);
    const int threads = team_size(context, rows, units, 3);
    PackedKernel packed(kernel, false);
    std::vector<float> z(3 * narrow);
    run_team(threads, [&](int thread, int team, SpinBarrier& barrier) {
      packed.pack(thread, team);
      barrier.wait();
      const auto share = unit_share(units, thread, team);
      for (int64_t t = 0; t < steps; ++t) {
        const bf16_bits* previous = t > 0 ? h + (t - 1) * narrow : h0;
        gate_products(previous, units, rows, units / 2, packed.data(), units, 3, share, z.data());
        for (int64_t row = 0; row < rows; ++row) {
          const float* zr = z.data() + row * 3 * units;
          const bf16_bits *pr = p + (t * rows + row) * 3 * units, *hpr = previous + row * units;
          bf16_bits *hr = h + t * narrow + row * units, *sr = s + (t * rows + row) * 4 * units;
#pragma GCC ivdep
          for (int64_t j = share.first; j < share.second; ++j) {
            const float update = fast_sigmoid(Bf16::load(pr, j) + Bf16::rounded(zr[j]) + Bf16::load(b, j));
            const float reset = fast_sigmoid(Bf16::load(pr, units + j) + Bf16::rounded(zr[units + j]) +
                                             Bf16::load(b, units + j));
            const float r_h = Bf16::rounded(Bf16::rounded(zr[2 * units + j]) + Bf16::load(b, 2 * units + j));
            const float candidate = Bf16::rounded(fast_tanh(Bf16::load(pr, 2 * units + j) + reset * r_h));
            hr[j] = Bf16::from_float(candidate + update * (Bf16::load(hpr, j) - candidate));
            sr[j] = Bf16::from_float(update);
            sr[units + j] = Bf16::from_float(reset);
            sr[2 * units + j] = Bf16::from_float(candidate);
            sr[3 * units + j] = Bf16::from_float(r_h);
          }
        }
        barrier.wait();
      }
    });
  }
};

REGISTER_OP("SeqlabGruBackwardSequence")
    .Input("saved: bfloat16")  // (T, B, 4U): every step's z, r, candidate, h_{t-1} @ U_h + b_h
    .Input("outputs: bfloat16")  // (T, B, U): h after every step
    .Input("h_first: bfloat16")  // (B, U): h before step 0
    .Input("kernel: bfloat16")  // (U, 3U)
    .Input("d_outputs: bfloat16")  // (T, B, U): gradient reaching each h_t from above
    .Input("dh_last: bfloat16")  // (B, U): gradient reaching h_T from after the sequence
    .Output("d_projected: bfloat16")  // (T, B, 3U): gradient of every x_t @ W + b_x
    .Output("d_recurrent: bfloat16")  // (T, B, 3U): gradient of every h_{t-1} @ U + b_h
    .Output("dh_first: bfloat16")  // (B, U)
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      auto width = c->Dim(c->input(2), 1);
      auto three = c->MakeShape({c->Dim(c->input(0), 0), c->Dim(c->input(0), 1),
                                 c->ValueKnown(width) ? c->MakeDim(3 * c->Value(width)) : c->UnknownDim()});
      c->set_output(0, three);
      c->set_output(1, three);
      c->set_output(2, c->input(2));
      return OkStatus();
    });

class GruBackwardSequence : public OpKernel {
 public:
  explicit GruBackwardSequence(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    const Tensor &saved = context->input(0), &outputs = context->input(1), &kernel = context->input(3);
    const TensorShape state = state_shape(outputs, kernel);
    const int64_t steps = outputs.dims() == 3 ? outputs.dim_size(0) : 0;
    OP_REQUIRES(context, outputs.dims() == 3 &&
                             kernel.dims() == 2 && kernel.dim_size(1) == 3 * kernel.dim_size(0) &&
                             kernel.dim_size(0) % 16 == 0 && outputs.shape() == with_steps(state, steps) &&
                             saved.shape() == TensorShape({steps, state.dim_size(0), 4 * state.dim_size(1)}) &&
                             context->input(2).shape() == state && context->input(4).shape() == outputs.shape() &&
                             context->input(5).shape() == state,
                errors::InvalidArgument("SeqlabGruBackwardSequence: shapes ", saved.shape().DebugString(), ", ",
                                        outputs.shape().DebugString(), ", ", context->input(2).shape().DebugString(),
                                        ", ", kernel.shape().DebugString(), ", ",
                                        context->input(4).shape().DebugString(), ", ",
                                        context->input(5).shape().DebugString()));
    const int64_t rows = outputs.dim_size(1), units = kernel.dim_size(0);
    const TensorShape three({steps, rows, 3 * units});
    Tensor *d_projected = nullptr, *d_recurrent = nullptr, *dh_first = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, three, &d_projected));
    OP_REQUIRES_OK(context, context->allocate_output(1, three, &d_recurrent));
    OP_REQUIRES_OK(context, context->allocate_output(2, state, &dh_first));
    const int64_t narrow = rows * units;
    const bf16_bits *s = bits(saved), *h = bits(outputs), *h0 = bits(context->input(2));
    const bf16_bits* d_h = bits(context->input(4));
    bf16_bits *dp = bits(d_projected), *dr = bits(d_recurrent), *dh0 = bits(dh_first);
    const int threads = team_size(context, rows, units, 3);
    PackedKernel packed(kernel, true);
    // Between steps, h_{t-1}'s gradient in two parts as the step ops round them: through U, and dh * z.
    std::vector<float> through(narrow), direct(narrow, 0.0f);
    for (int64_t k = 0; k < narrow; ++k) through[k] = Bf16::load(bits(context->input(5)), k);
    run_team(threads, [&](int thread, int team, SpinBarrier& barrier) {
      packed.pack(thread, team);
      const auto share = unit_share(units, thread, team);
      for (int64_t t = steps - 1; t >= 0; --t) {
        for (int64_t row = 0; row < rows; ++row) {
          const int64_t n = row * units, w = (t * rows + row) * 3 * units;
          const bf16_bits* sr = s + (t * rows + row) * 4 * units;
          const bf16_bits* previous = (t > 0 ? h + (t - 1) * narrow : h0) + n;
          const bf16_bits* d_hr = d_h + t * narrow + n;
          float *through_r = through.data() + n, *direct_r = direct.data() + n;
#pragma GCC ivdep
          for (int64_t j = share.first; j < share.second; ++j) {
            const float update = Bf16::load(sr, j), reset = Bf16::load(sr, units + j);
            const float candidate = Bf16::load(sr, 2 * units + j), r_h = Bf16::load(sr, 3 * units + j);
            const float dh_next = Bf16::rounded(direct_r[j] + Bf16::rounded(through_r[j]));
            const float dh = Bf16::load(d_hr, j) + dh_next;
            const float d_candidate = dh * (1.0f - update) * (1.0f - candidate * candidate);
            const float d_update = dh * (Bf16::load(previous, j) - candidate) * update * (1.0f - update);
            const float d_reset = d_candidate * r_h * reset * (1.0f - reset);
            dp[w + j] = dr[w + j] = Bf16::from_float(d_update);
            dp[w + units + j] = dr[w + units + j] = Bf16::from_float(d_reset);
            dp[w + 2 * units + j] = Bf16::from_float(d_candidate);
            dr[w + 2 * units + j] = Bf16::from_float(d_candidate * reset);
            direct_r[j] = Bf16::rounded(dh * update);
          }
        }
        barrier.wait();  // every thread's part of d_recurrent_t (and the packing, at the first step) is written
        packed_product(dr + t * 3 * narrow, 3 * units, rows, 3 * units / 2, packed.data(), units, share.first,
                       share.second, through.data(), units);
      }
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t k = row * units + share.first; k < row * units + share.second; ++k) {
          dh0[k] = Bf16::from_float(direct[k] + Bf16::rounded(through[k]));
        }
      }
    });
  }
};

REGISTER_KERNEL_BUILDER(Name("SeqlabGruForwardSequence").Device(DEVICE_CPU), GruForwardSequence);
REGISTER_KERNEL_BUILDER(Name("SeqlabGruBackwardSequence").Device(DEVICE_CPU), GruBackwardSequence);
}  // namespace seqlab
#endif  // __AVX512BF16__
