"""LSTM, GRU and SimpleRNN layers whose CPU training step does the least work per time step.

Keras' CPU path runs the cell once per step and lets autodiff walk the loop back: every step multiplies the
input by the input kernel, and the backward loop computes that kernel's gradient step by step too. Here the
input projection of all steps is one matrix product before the loop, the loop does only h @ U and the gates,
and a hand-written backward loop does only dz @ Uᵀ; the gradients of U, the kernel and the bias are each one
matrix product (or sum) after it. Each step's element-wise maths is one compiled op forward and one backward where
the kernels build (native_kernels.py), TF ops otherwise (recurrent_steps.py); on CPUs with AVX-512 BF16 the
whole loop is one op each way. Which of these runs is decided in choice.py. Same maths, 1.5–2× less time per
step than Keras' loop (`python -m bench training`).

The layers are keras.layers.LSTM/GRU/SimpleRNN subclasses with the same weights, names and gate order, so
saved models, the NumPy sampler and the cuDNN path on a GPU are unchanged. They fall back to Keras' own loop
whenever this one does not apply: a GPU, a mask (padded reviews), dropout inside the cell, non-default
activations, a stateful layer or a GRU without reset_after. `weight_dropout` (DropConnect on U) works on both paths.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from seqlab.engine.choice import Engine, choose_engine, engine_functions


def _zeros_if_none(gradient, like):
    return tf.zeros_like(like) if gradient is None else gradient


def _shifted(sequence, first):
    """(T, B, U) states h_1..h_T -> h_0..h_{T-1}: each step's incoming state."""
    return tf.concat([first[tf.newaxis], sequence[:-1]], axis=0)


def _transposed(matrix):
    """Uᵀ stored transposed: oneDNN's small products with transpose_b=True run ~2.4× slower here."""
    return tf.identity(tf.transpose(matrix))


def _matmul_over_steps(a, b):
    """Σ_t a[t]ᵀ @ b[t] for (T, B, m), (T, B, n) -> (m, n): the recurrent-weight gradient as one product."""
    return tf.matmul(tf.reshape(a, [-1, tf.shape(a)[-1]]), tf.reshape(b, [-1, tf.shape(b)[-1]]), transpose_a=True)


# The recurrences as one op each way (Engine.SEQUENCE_OPS in choice.py), the
# gradients of U and b still one product or sum after the backward op. The last step of H is h_T (T >= 1 in Keras).
def _lstm_sequence(projected, recurrent_kernel, h0, c0, forward, backward):
    outputs, cells, gates = forward(projected, recurrent_kernel, h0, c0)

    def gradient(d_outputs, d_h_last, d_c_last):
        d_projected, d_h0, d_c0 = backward(gates, cells, c0, recurrent_kernel, _zeros_if_none(d_outputs, outputs),
                                           _zeros_if_none(d_h_last, h0), _zeros_if_none(d_c_last, c0))
        return d_projected, _matmul_over_steps(_shifted(outputs, h0), d_projected), d_h0, d_c0

    return (outputs, outputs[-1], cells[-1]), gradient


def _gru_sequence(projected, recurrent_kernel, recurrent_bias, h0, forward, backward):
    outputs, saved = forward(projected, recurrent_kernel, recurrent_bias, h0)

    def gradient(d_outputs, d_h_last):
        d_projected, d_recurrent, d_h0 = backward(saved, outputs, h0, recurrent_kernel,
                                                  _zeros_if_none(d_outputs, outputs), _zeros_if_none(d_h_last, h0))
        return (d_projected, _matmul_over_steps(_shifted(outputs, h0), d_recurrent),
                tf.reduce_sum(d_recurrent, axis=[0, 1]), d_h0)

    return (outputs, outputs[-1]), gradient


def _simple_rnn_sequence(projected, recurrent_kernel, h0, forward, backward):
    outputs = forward(projected, recurrent_kernel, h0)

    def gradient(d_outputs, d_h_last):
        d_projected, d_h0 = backward(outputs, recurrent_kernel, _zeros_if_none(d_outputs, outputs),
                                     _zeros_if_none(d_h_last, h0))
        return d_projected, _matmul_over_steps(_shifted(outputs, h0), d_projected), d_h0

    return (outputs, outputs[-1]), gradient


@tf.custom_gradient
def lstm_recurrence(projected, recurrent_kernel, h0, c0):
    """projected (T, B, 4U) = x @ W + b, time-major, gates (i, f, c, o) -> (H (T, B, U), h_T, c_T)."""
    engine = choose_engine("lstm", projected.dtype, recurrent_kernel.shape[0])
    if engine == Engine.SEQUENCE_OPS:
        return _lstm_sequence(projected, recurrent_kernel, h0, c0, *engine_functions(engine, "lstm"))
    steps = tf.shape(projected)[0]
    forward_step, backward_step = engine_functions(engine, "lstm")
    arrays = [tf.TensorArray(projected.dtype, size=steps) for _ in range(3)]  # h, c, activated gates

    def step(t, h, c, hs, cs, gs):
        h, c, gates = forward_step(projected, t, tf.matmul(h, recurrent_kernel), c)
        return t + 1, h, c, hs.write(t, h), cs.write(t, c), gs.write(t, gates)

    _, h_last, c_last, hs, cs, gs = tf.while_loop(lambda t, *_: t < steps, step, [0, h0, c0, *arrays])
    outputs, cells, gates = hs.stack(), cs.stack(), gs.stack()

    def gradient(d_outputs, d_h_last, d_c_last):
        d_outputs = _zeros_if_none(d_outputs, outputs)
        recurrent_kernel_t = _transposed(recurrent_kernel)

        def back(t, dh_next, dc_next, dzs):
            t_forward = steps - 1 - t
            dz, dc_previous = backward_step(gates, t_forward, cells, c0, d_outputs, dh_next, dc_next)
            return t + 1, tf.matmul(dz, recurrent_kernel_t), dc_previous, dzs.write(t_forward, dz)

        _, d_h0, d_c0, dzs = tf.while_loop(
            lambda t, *_: t < steps, back,
            [0, _zeros_if_none(d_h_last, h0), _zeros_if_none(d_c_last, c0),
             tf.TensorArray(projected.dtype, size=steps)])
        d_projected = dzs.stack()
        return d_projected, _matmul_over_steps(_shifted(outputs, h0), d_projected), d_h0, d_c0

    return (outputs, h_last, c_last), gradient


@tf.custom_gradient
def gru_recurrence(projected, recurrent_kernel, recurrent_bias, h0):
    """projected (T, B, 3U) = x @ W + b_x, gates (z, r, h), reset after the recurrent product -> (H, h_T)."""
    engine = choose_engine("gru", projected.dtype, recurrent_kernel.shape[0])
    if engine == Engine.SEQUENCE_OPS:
        return _gru_sequence(projected, recurrent_kernel, recurrent_bias, h0, *engine_functions(engine, "gru"))
    steps = tf.shape(projected)[0]
    forward_step, backward_step = engine_functions(engine, "gru")
    arrays = [tf.TensorArray(projected.dtype, size=steps) for _ in range(2)]  # h, [z, r, candidate, U_h h + b_h]

    def step(t, h, hs, saved):
        h, kept = forward_step(projected, t, tf.matmul(h, recurrent_kernel), recurrent_bias, h)
        return t + 1, h, hs.write(t, h), saved.write(t, kept)

    _, h_last, hs, saved = tf.while_loop(lambda t, *_: t < steps, step, [0, h0, *arrays])
    outputs, saved = hs.stack(), saved.stack()

    def gradient(d_outputs, d_h_last):
        d_outputs = _zeros_if_none(d_outputs, outputs)
        recurrent_kernel_t = _transposed(recurrent_kernel)

        def back(t, dh_next, dxs, drs):
            t_forward = steps - 1 - t
            d_projected, d_recurrent, dh_direct = backward_step(saved, t_forward, outputs, h0, d_outputs, dh_next)
            dh_previous = dh_direct + tf.matmul(d_recurrent, recurrent_kernel_t)
            return t + 1, dh_previous, dxs.write(t_forward, d_projected), drs.write(t_forward, d_recurrent)

        _, d_h0, dxs, drs = tf.while_loop(
            lambda t, *_: t < steps, back,
            [0, _zeros_if_none(d_h_last, h0)] + [tf.TensorArray(projected.dtype, size=steps) for _ in range(2)])
        d_recurrent = drs.stack()
        d_recurrent_bias = tf.reduce_sum(d_recurrent, axis=[0, 1])
        return dxs.stack(), _matmul_over_steps(_shifted(outputs, h0), d_recurrent), d_recurrent_bias, d_h0

    return (outputs, h_last), gradient


@tf.custom_gradient
def simple_rnn_recurrence(projected, recurrent_kernel, h0):
    """projected (T, B, U) = x @ W + b -> (H, h_T) with h_t = tanh(projected_t + h_{t-1} @ U)."""
    engine = choose_engine("simple_rnn", projected.dtype, recurrent_kernel.shape[0])
    if engine == Engine.SEQUENCE_OPS:
        return _simple_rnn_sequence(projected, recurrent_kernel, h0, *engine_functions(engine, "simple_rnn"))
    steps = tf.shape(projected)[0]
    forward_step, backward_step = engine_functions(engine, "simple_rnn")

    def step(t, h, hs):
        h = forward_step(projected, t, tf.matmul(h, recurrent_kernel))
        return t + 1, h, hs.write(t, h)

    _, h_last, hs = tf.while_loop(lambda t, *_: t < steps, step,
                                  [0, h0, tf.TensorArray(projected.dtype, size=steps)])
    outputs = hs.stack()

    def gradient(d_outputs, d_h_last):
        d_outputs = _zeros_if_none(d_outputs, outputs)
        recurrent_kernel_t = _transposed(recurrent_kernel)

        def back(t, dh_next, das):
            t_forward = steps - 1 - t
            da = backward_step(outputs, t_forward, d_outputs, dh_next)
            return t + 1, tf.matmul(da, recurrent_kernel_t), das.write(t_forward, da)

        _, d_h0, das = tf.while_loop(lambda t, *_: t < steps, back,
                                     [0, _zeros_if_none(d_h_last, h0), tf.TensorArray(projected.dtype, size=steps)])
        d_projected = das.stack()
        return d_projected, _matmul_over_steps(_shifted(outputs, h0), d_projected), d_h0

    return (outputs, h_last), gradient


class _FusedLoop:
    """Mixin: replaces RNN.inner_loop by a fused recurrence when the layer's settings allow it, and adds
    `weight_dropout`: DropConnect on the recurrent kernel U (AWD-LSTM's weight drop), one mask per training batch
    shared by every time step, so the loops and the cuDNN kernel run unchanged on the masked weights."""

    def __init__(self, *args, weight_dropout: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.weight_dropout = float(weight_dropout)

    def get_config(self):
        return {**super().get_config(), "weight_dropout": self.weight_dropout}

    def _dropped(self, recurrent_kernel, training):
        """U with `weight_dropout` of its entries zeroed and the rest scaled up (training only)."""
        if training and self.weight_dropout:
            return tf.nn.dropout(recurrent_kernel, rate=self.weight_dropout)
        return recurrent_kernel

    def _keras_inner_loop(self, sequences, initial_state, mask, training):
        """Keras' own loop (GPU, masks, ...), on the dropped U: the cell's weight is swapped for the traced call."""
        cell, kernel = self.cell, self.cell.recurrent_kernel
        if not (training and self.weight_dropout):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        object.__setattr__(cell, "recurrent_kernel", self._dropped(tf.convert_to_tensor(kernel), training))
        try:  # object.__setattr__: Keras' attribute tracking must not see the tensor (nor the variable come back)
            return super().inner_loop(sequences, initial_state, mask, training=training)
        finally:
            object.__setattr__(cell, "recurrent_kernel", kernel)

    def _fused_loop_fits(self, mask) -> bool:
        """The layer's settings are ones the fused loop computes (choice.choose_engine decides the rest)."""
        cell = self.cell
        recurrent_activation = getattr(cell, "recurrent_activation", keras.activations.sigmoid)
        return (mask is None and not self.stateful and not self.unroll and not cell.dropout
                and not cell.recurrent_dropout and cell.activation is keras.activations.tanh
                and recurrent_activation is keras.activations.sigmoid and getattr(cell, "reset_after", True))

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, list | tuple):
            mask = mask[0]
        if choose_engine(self.cell_name, fused_loop_fits=self._fused_loop_fits(mask)) == Engine.KERAS:
            return self._keras_inner_loop(sequences, initial_state, mask, training)
        if not isinstance(initial_state, list | tuple):
            initial_state = [initial_state]
        if self.go_backwards:  # Keras' convention: outputs come in processing order
            sequences = tf.reverse(sequences, axis=[1])
        cell, dtype = self.cell, sequences.dtype
        kernel, recurrent_kernel = tf.cast(cell.kernel, dtype), tf.cast(cell.recurrent_kernel, dtype)
        bias = tf.cast(cell.bias, dtype) if cell.use_bias else None
        time_major = tf.transpose(sequences, [1, 0, 2])  # (T, B, inputs)
        shape = tf.shape(time_major)
        # Every step's input projection as one 2-D product (a 3-D one would reduce the kernel's gradient over B).
        projected = tf.matmul(tf.reshape(time_major, [-1, shape[2]]), kernel)
        if bias is not None:
            projected += bias[0] if len(bias.shape) == 2 else bias
        projected = tf.reshape(projected, [shape[0], shape[1], -1])  # (T, B, gates*U)
        recurrent_kernel = self._dropped(recurrent_kernel, training)
        states = [tf.cast(state, dtype) for state in initial_state]
        outputs, *final_states = self._recurrence(projected, recurrent_kernel, bias, states)
        outputs = tf.transpose(outputs, [1, 0, 2])
        last_output = final_states[0]
        return last_output, (outputs if self.return_sequences else last_output[:, tf.newaxis]), final_states


@keras.saving.register_keras_serializable(package="seqlab")
class FusedLSTM(_FusedLoop, keras.layers.LSTM):
    """keras.layers.LSTM with the fused CPU loop (see the module docstring)."""

    cell_name = "lstm"

    def _recurrence(self, projected, recurrent_kernel, bias, states):
        return lstm_recurrence(projected, recurrent_kernel, states[0], states[1])


@keras.saving.register_keras_serializable(package="seqlab")
class FusedGRU(_FusedLoop, keras.layers.GRU):
    """keras.layers.GRU (reset_after=True) with the fused CPU loop (see the module docstring)."""

    cell_name = "gru"

    def _recurrence(self, projected, recurrent_kernel, bias, states):
        recurrent_bias = bias[1] if bias is not None else tf.zeros([tf.shape(recurrent_kernel)[1]], projected.dtype)
        return gru_recurrence(projected, recurrent_kernel, recurrent_bias, states[0])


@keras.saving.register_keras_serializable(package="seqlab")
class FusedSimpleRNN(_FusedLoop, keras.layers.SimpleRNN):
    """keras.layers.SimpleRNN with the fused CPU loop (see the module docstring)."""

    cell_name = "simple_rnn"

    def _recurrence(self, projected, recurrent_kernel, bias, states):
        return simple_rnn_recurrence(projected, recurrent_kernel, states[0])
