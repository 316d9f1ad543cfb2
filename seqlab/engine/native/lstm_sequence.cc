// The LSTM's whole-sequence ops in float32 and bfloat16 (gates i, f, c, o as Keras orders them); see sequence_kernels.h.
// Same maths and roundings as the step ops in lstm_steps.cc, which the tests hold these to.
#include "sequence_kernels.h"
#if defined(__AVX512BF16__)

namespace seqlab {

REGISTER_OP("SeqlabLstmForwardSequence")
    .Input("projected: T")  // (T, B, 4U): x_t @ W + b for every step
    .Input("kernel: T")  // (U, 4U): the recurrent kernel
    .Input("h_first: T")  // (B, U)
    .Input("c_first: T")  // (B, U)
    .Output("outputs: T")  // (T, B, U): h after every step
    .Output("cells: T")  // (T, B, U): c after every step
    .Output("gates: T")  // (T, B, 4U): every step's activated gates
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      shape_inference::ShapeHandle narrow;
      TF_RETURN_IF_ERROR(c->Concatenate(c->Vector(c->Dim(c->input(0), 0)), c->input(2), &narrow));
      c->set_output(0, narrow);
      c->set_output(1, narrow);
      c->set_output(2, c->input(0));
      return OkStatus();
    });

template <typename T> class LstmForwardSequence : public OpKernel {
 public:
  explicit LstmForwardSequence(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    using E = Elements<T>;
    using S = typename E::Stored;
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
    const S *p = values<T>(projected), *h0 = values<T>(context->input(2)), *c0 = values<T>(context->input(3));
    S *h = values<T>(outputs), *c = values<T>(cells), *g = values<T>(gates);
    const int threads = team_size(context, rows, units, 4);
    PackedKernel<T> packed(kernel, false);
    std::vector<float> z(wide);
    run_team(threads, [&](int thread, int team, SpinBarrier& barrier) {
      packed.pack(thread, team);
      barrier.wait();
      const auto share = unit_share(units, thread, team);
      for (int64_t t = 0; t < steps; ++t) {
        packed.gate_products(t > 0 ? h + (t - 1) * narrow : h0, rows, 4, units, share, z.data());
        for (int64_t row = 0; row < rows; ++row) {
          const float* zr = z.data() + row * 4 * units;
          const S* pr = p + t * wide + row * 4 * units;
          const S* cpr = (t > 0 ? c + (t - 1) * narrow : c0) + row * units;
          S *gr = g + t * wide + row * 4 * units, *hr = h + t * narrow + row * units;
          S* cr = c + t * narrow + row * units;
#pragma GCC ivdep
          for (int64_t j = share.first; j < share.second; ++j) {
            const float i = fast_sigmoid(E::load(pr, j) + E::rounded(zr[j]));
            const float f = fast_sigmoid(E::load(pr, units + j) + E::rounded(zr[units + j]));
            const float cand = fast_tanh(E::load(pr, 2 * units + j) + E::rounded(zr[2 * units + j]));
            const float o = fast_sigmoid(E::load(pr, 3 * units + j) + E::rounded(zr[3 * units + j]));
            const float cell = E::rounded(f * E::load(cpr, j) + i * cand);
            cr[j] = E::from_float(cell);
            hr[j] = E::from_float(o * fast_tanh(cell));
            gr[j] = E::from_float(i);
            gr[units + j] = E::from_float(f);
            gr[2 * units + j] = E::from_float(cand);
            gr[3 * units + j] = E::from_float(o);
          }
        }
        barrier.wait();
      }
    });
  }
};

REGISTER_OP("SeqlabLstmBackwardSequence")
    .Input("gates: T")  // (T, B, 4U) activated gates of every step
    .Input("cells: T")  // (T, B, U) c after every step
    .Input("c_first: T")  // (B, U) c before step 0
    .Input("kernel: T")  // (U, 4U)
    .Input("d_outputs: T")  // (T, B, U) gradient reaching each h_t from above
    .Input("dh_last: T")  // (B, U) gradient reaching h_T from after the sequence
    .Input("dc_last: T")  // (B, U) gradient reaching c_T from after the sequence
    .Output("d_projected: T")  // (T, B, 4U) gradient of every step's gate pre-activations
    .Output("dh_first: T")  // (B, U)
    .Output("dc_first: T")  // (B, U)
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(0));
      c->set_output(1, c->input(2));
      c->set_output(2, c->input(2));
      return OkStatus();
    });

template <typename T> class LstmBackwardSequence : public OpKernel {
 public:
  explicit LstmBackwardSequence(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    using E = Elements<T>;
    using S = typename E::Stored;
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
    const S *g = values<T>(gates), *c = values<T>(context->input(1)), *c0 = values<T>(context->input(2));
    const S* d_h = values<T>(context->input(4));
    S *dz = values<T>(d_projected), *dh0 = values<T>(dh_first), *dc0 = values<T>(dc_first);
    const int threads = team_size(context, rows, units, 4);
    PackedKernel<T> packed(kernel, true);
    std::vector<float> dh(narrow), dc(narrow);  // gradients reaching h_t through U and c_t, between steps
    for (int64_t k = 0; k < narrow; ++k) {
      dh[k] = E::load(values<T>(context->input(5)), k);
      dc[k] = E::load(values<T>(context->input(6)), k);
    }
    run_team(threads, [&](int thread, int team, SpinBarrier& barrier) {
      packed.pack(thread, team);
      const auto share = unit_share(units, thread, team);
      for (int64_t t = steps - 1; t >= 0; --t) {
        for (int64_t row = 0; row < rows; ++row) {
          const int64_t n = row * units;
          const S *gr = g + t * wide + 4 * n, *cr = c + t * narrow + n;
          const S* cpr = (t > 0 ? c + (t - 1) * narrow : c0) + n;
          const S* d_hr = d_h + t * narrow + n;
          S* dzr = dz + t * wide + 4 * n;
          float *dhr = dh.data() + n, *dcr = dc.data() + n;
#pragma GCC ivdep
          for (int64_t j = share.first; j < share.second; ++j) {
            const float i = E::load(gr, j), f = E::load(gr, units + j);
            const float cand = E::load(gr, 2 * units + j), o = E::load(gr, 3 * units + j);
            const float tanh_c = fast_tanh(E::load(cr, j));
            const float d_hidden = E::load(d_hr, j) + E::rounded(dhr[j]);
            const float d_cell = dcr[j] + d_hidden * o * (1.0f - tanh_c * tanh_c);
            dzr[j] = E::from_float(d_cell * cand * i * (1.0f - i));
            dzr[units + j] = E::from_float(d_cell * E::load(cpr, j) * f * (1.0f - f));
            dzr[2 * units + j] = E::from_float(d_cell * i * (1.0f - cand * cand));
            dzr[3 * units + j] = E::from_float(d_hidden * tanh_c * o * (1.0f - o));
            dcr[j] = E::rounded(d_cell * f);
          }
        }
        barrier.wait();  // every thread's part of dz_t (and the packing, at the first step) is written
        packed.gate_products(dz + t * wide, rows, 1, units, share, dh.data());
      }
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t k = row * units + share.first; k < row * units + share.second; ++k) {
          dh0[k] = E::from_float(dh[k]);
          dc0[k] = E::from_float(dc[k]);
        }
      }
    });
  }
};

SEQLAB_REGISTER_STEPS("SeqlabLstmForwardSequence", LstmForwardSequence)
SEQLAB_REGISTER_STEPS("SeqlabLstmBackwardSequence", LstmBackwardSequence)
}  // namespace seqlab
#endif  // __AVX512BF16__
