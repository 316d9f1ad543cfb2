// The LSTM's whole-sequence ops in bfloat16 (gates i, f, c, o as Keras orders them); see sequence_kernels.h.
// Same maths and roundings as the step ops in lstm_steps.cc, which the tests hold these to.
#include "sequence_kernels.h"
#if defined(__AVX512BF16__)

namespace seqlab {

REGISTER_OP("SeqlabLstmForwardSequence")
    .Input("projected: bfloat16")  // (T, B, 4U): x_t @ W + b for every step
    .Input("kernel: bfloat16")  // (U, 4U): the recurrent kernel
    .Input("h_first: bfloat16")  // (B, U)
    .Input("c_first: bfloat16")  // (B, U)
    .Output("outputs: bfloat16")  // (T, B, U): h after every step
    .Output("cells: bfloat16")  // (T, B, U): c after every step
    .Output("gates: bfloat16")  // (T, B, 4U): every step's activated gates
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      shape_inference::ShapeHandle narrow;
      TF_RETURN_IF_ERROR(c->Concatenate(c->Vector(c->Dim(c->input(0), 0)), c->input(2), &narrow));
      c->set_output(0, narrow);
      c->set_output(1, narrow);
      c->set_output(2, c->input(0));
      return OkStatus();
    });

class LstmForwardSequence : public OpKernel {
 public:
  explicit LstmForwardSequence(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    const Tensor &projected = context->input(0), &kernel = context->input(1);
    const TensorShape state = state_shape(projected, kernel);
    OP_REQUIRES(context, sequence_shape_ok(projected, kernel, 4) && context->input(2).shape() == state &&
                             context->input(3).shape() == state,
                errors::InvalidArgument("SeqlabLstmForwardSequence: shapes ", projected.shape().DebugString(), ", ",
                                        kernel.shape().DebugString(), ", ", context->input(2).shape().DebugString(),
                                        ", ", context->input(3).shape().DebugString()));
    const int64_t steps = projected.dim_size(0), rows = projected.dim_size(1), units = kernel.dim_size(0);
    Tensor *outputs = nullptr, *cells = nullptr, *gates = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, with_steps(state, steps), &outputs));
    OP_REQUIRES_OK(context, context->allocate_output(1, with_steps(state, steps), &cells));
    OP_REQUIRES_OK(context, context->allocate_output(2, projected.shape(), &gates));
    const int64_t narrow = rows * units, wide = 4 * narrow;
    const bf16_bits *p = bits(projected), *h0 = bits(context->input(2)), *c0 = bits(context->input(3));
    bf16_bits *h = bits(outputs), *c = bits(cells), *g = bits(gates);
    const int threads = team_size(context, rows, units, 4);
    PackedKernel packed(kernel, false);
    std::vector<float> z(wide);
    run_team(threads, [&](int thread, int team, SpinBarrier& barrier) {
      packed.pack(thread, team);
      barrier.wait();
      const auto share = unit_share(units, thread, team);
      for (int64_t t = 0; t < steps; ++t) {
        gate_products(t > 0 ? h + (t - 1) * narrow : h0, units, rows, units / 2, packed.data(), units, 4, share,
                      z.data());
        for (int64_t row = 0; row < rows; ++row) {
          const float* zr = z.data() + row * 4 * units;
          const bf16_bits* pr = p + t * wide + row * 4 * units;
          const bf16_bits* cpr = (t > 0 ? c + (t - 1) * narrow : c0) + row * units;
          bf16_bits *gr = g + t * wide + row * 4 * units, *hr = h + t * narrow + row * units;
          bf16_bits* cr = c + t * narrow + row * units;
#pragma GCC ivdep
          for (int64_t j = share.first; j < share.second; ++j) {
            const float i = fast_sigmoid(Bf16::load(pr, j) + Bf16::rounded(zr[j]));
            const float f = fast_sigmoid(Bf16::load(pr, units + j) + Bf16::rounded(zr[units + j]));
            const float cand = fast_tanh(Bf16::load(pr, 2 * units + j) + Bf16::rounded(zr[2 * units + j]));
            const float o = fast_sigmoid(Bf16::load(pr, 3 * units + j) + Bf16::rounded(zr[3 * units + j]));
            const float cell = Bf16::rounded(f * Bf16::load(cpr, j) + i * cand);
            cr[j] = Bf16::from_float(cell);
            hr[j] = Bf16::from_float(o * fast_tanh(cell));
            gr[j] = Bf16::from_float(i);
            gr[units + j] = Bf16::from_float(f);
            gr[2 * units + j] = Bf16::from_float(cand);
            gr[3 * units + j] = Bf16::from_float(o);
          }
        }
        barrier.wait();
      }
    });
  }
};

REGISTER_OP("SeqlabLstmBackwardSequence")
    .Input("gates: bfloat16")  // (T, B, 4U) activated gates of every step
    .Input("cells: bfloat16")  // (T, B, U) c after every step
    .Input("c_first: bfloat16")  // (B, U) c before step 0
    .Input("kernel: bfloat16")  // (U, 4U)
    .Input("d_outputs: bfloat16")  // (T, B, U) gradient reaching each h_t from above
    .Input("dh_last: bfloat16")  // (B, U) gradient reaching h_T from after the sequence
    .Input("dc_last: bfloat16")  // (B, U) gradient reaching c_T from after the sequence
    .Output("d_projected: bfloat16")  // (T, B, 4U) gradient of every step's gate pre-activations
    .Output("dh_first: bfloat16")  // (B, U)
    .Output("dc_first: bfloat16")  // (B, U)
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(0));
      c->set_output(1, c->input(2));
      c->set_output(2, c->input(2));
      return OkStatus();
    });

class LstmBackwardSequence : public OpKernel {
 public:
  explicit LstmBackwardSequence(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    const Tensor &gates = context->input(0), &kernel = context->input(3);
    const TensorShape state = state_shape(gates, kernel);
    const TensorShape narrow_sequence = with_steps(state, gates.dims() == 3 ? gates.dim_size(0) : 0);
    OP_REQUIRES(context, sequence_shape_ok(gates, kernel, 4) && context->input(1).shape() == narrow_sequence &&
                             context->input(2).shape() == state && context->input(4).shape() == narrow_sequence &&
                             context->input(5).shape() == state && context->input(6).shape() == state,
                errors::InvalidArgument("SeqlabLstmBackwardSequence: shapes ", gates.shape().DebugString(), ", ",
                                        context->input(1).shape().DebugString(), ", ",
                                        context->input(2).shape().DebugString(), ", ", kernel.shape().DebugString(),
                                        ", ", context->input(4).shape().DebugString(), ", ",
                                        context->input(5).shape().DebugString(), ", ",
                                        context->input(6).shape().DebugString()));
    const int64_t steps = gates.dim_size(0), rows = gates.dim_size(1), units = kernel.dim_size(0);
    Tensor *d_projected = nullptr, *dh_first = nullptr, *dc_first = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, gates.shape(), &d_projected));
    OP_REQUIRES_OK(context, context->allocate_output(1, state, &dh_first));
    OP_REQUIRES_OK(context, context->allocate_output(2, state, &dc_first));
    const int64_t narrow = rows * units, wide = 4 * narrow;
    const bf16_bits *g = bits(gates), *c = bits(context->input(1)), *c0 = bits(context->input(2));
    const bf16_bits* d_h = bits(context->input(4));
    bf16_bits *dz = bits(d_projected), *dh0 = bits(dh_first), *dc0 = bits(dc_first);
    const int threads = team_size(context, rows, units, 4);
    PackedKernel packed(kernel, true);
    std::vector<float> dh(narrow), dc(narrow);  // gradients reaching h_t through U and c_t, between steps
    for (int64_t k = 0; k < narrow; ++k) {
      dh[k] = Bf16::load(bits(context->input(5)), k);
      dc[k] = Bf16::load(bits(context->input(6)), k);
    }
    run_team(threads, [&](int thread, int team, SpinBarrier& barrier) {
      packed.pack(thread, team);
      const auto share = unit_share(units, thread, team);
      for (int64_t t = steps - 1; t >= 0; --t) {
        for (int64_t row = 0; row < rows; ++row) {
          const int64_t n = row * units;
          const bf16_bits *gr = g + t * wide + 4 * n, *cr = c + t * narrow + n;
          const bf16_bits* cpr = (t > 0 ? c + (t - 1) * narrow : c0) + n;
          const bf16_bits* d_hr = d_h + t * narrow + n;
          bf16_bits* dzr = dz + t * wide + 4 * n;
          float *dhr = dh.data() + n, *dcr = dc.data() + n;
#pragma GCC ivdep
          for (int64_t j = share.first; j < share.second; ++j) {
            const float i = Bf16::load(gr, j), f = Bf16::load(gr, units + j);
            const float cand = Bf16::load(gr, 2 * units + j), o = Bf16::load(gr, 3 * units + j);
            const float tanh_c = fast_tanh(Bf16::load(cr, j));
            const float d_hidden = Bf16::load(d_hr, j) + Bf16::rounded(dhr[j]);
            const float d_cell = dcr[j] + d_hidden * o * (1.0f - tanh_c * tanh_c);
            dzr[j] = Bf16::from_float(d_cell * cand * i * (1.0f - i));
            dzr[units + j] = Bf16::from_float(d_cell * Bf16::load(cpr, j) * f * (1.0f - f));
            dzr[2 * units + j] = Bf16::from_float(d_cell * i * (1.0f - cand * cand));
            dzr[3 * units + j] = Bf16::from_float(d_hidden * tanh_c * o * (1.0f - o));
            dcr[j] = Bf16::rounded(d_cell * f);
          }
        }
        barrier.wait();  // every thread's part of dz_t (and the packing, at the first step) is written
        packed_product(dz + t * wide, 4 * units, rows, 2 * units, packed.data(), units, share.first, share.second,
                       dh.data(), units);
      }
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t k = row * units + share.first; k < row * units + share.second; ++k) {
          dh0[k] = Bf16::from_float(dh[k]);
          dc0[k] = Bf16::from_float(dc[k]);
        }
      }
    });
  }
};

REGISTER_KERNEL_BUILDER(Name("SeqlabLstmForwardSequence").Device(DEVICE_CPU), LstmForwardSequence);
REGISTER_KERNEL_BUILDER(Name("SeqlabLstmBackwardSequence").Device(DEVICE_CPU), LstmBackwardSequence);
}  // namespace seqlab
#endif  // __AVX512BF16__
