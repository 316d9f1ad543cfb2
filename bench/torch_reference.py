"""The PyTorch side of `bench training`: the same char-RNN as people write it in PyTorch.

nn.Embedding → nn.LSTM / nn.GRU / nn.RNN (batch_first, stacked, dropout between layers) → nn.Linear,
cross-entropy on logits, Adam + clip_grad_norm_ (a global norm, as seqlab clips). Runs as a worker process
started by bench.training (never in a process that imports TensorFlow) and speaks the protocol of
training_worker.py.
"""

from __future__ import annotations

import contextlib
import json
import sys

from bench.training import DATA_SEED, VOCABULARY_SIZE, Method, Shape, make_batches
from bench.training_worker import serve


def build_torch_model(shape: Shape):
    """(batch, time) ids -> (batch, time, vocabulary) logits, with PyTorch's own recurrent layers."""
    import torch
    from torch import nn

    class CharModel(nn.Module):
        def __init__(self):
            super().__init__()
            recurrent = {"lstm": nn.LSTM, "gru": nn.GRU, "simple_rnn": nn.RNN}[shape.cell]
            self.embedding = nn.Embedding(VOCABULARY_SIZE, shape.embedding_dim)
            self.recurrent = recurrent(shape.embedding_dim, shape.units, num_layers=shape.num_layers,
                                       batch_first=True, dropout=shape.dropout if shape.num_layers > 1 else 0.0)
            self.dropout = nn.Dropout(shape.dropout)
            self.logits = nn.Linear(shape.units, VOCABULARY_SIZE)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            outputs, _ = self.recurrent(self.embedding(ids))  # (batch, time, units)
            return self.logits(self.dropout(outputs))

    return CharModel()


def torch_worker(shape: Shape, method: Method) -> None:
    """Build, then serve timed training steps: forward, loss, backward, clip, Adam."""
    import torch
    import torch.nn.functional as functional

    torch.set_num_threads(method.threads)
    torch.set_num_interop_threads(method.inter_op_threads)
    torch.manual_seed(DATA_SEED)
    model = build_torch_model(shape).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=shape.learning_rate)
    inputs, targets = make_batches(shape)
    batches = [(torch.from_numpy(x).long(), torch.from_numpy(y).long()) for x, y in zip(inputs, targets)]
    position = 0

    def autocast():
        if shape.precision == "bfloat16":
            return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def step() -> None:
        nonlocal position
        ids, next_ids = batches[position % len(batches)]
        position += 1
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            logits = model(ids)
        loss = functional.cross_entropy(logits.float().reshape(-1, VOCABULARY_SIZE), next_ids.reshape(-1))
        loss.backward()
        if shape.clip == "norm":
            torch.nn.utils.clip_grad_norm_(model.parameters(), shape.clip_threshold)
        elif shape.clip == "value":
            torch.nn.utils.clip_grad_value_(model.parameters(), shape.clip_threshold)
        optimizer.step()
        loss.item()

    serve(step, {"parameters": sum(p.numel() for p in model.parameters()), "torch": torch.__version__,
                 "intra_op_threads": torch.get_num_threads(), "inter_op_threads": torch.get_num_interop_threads(),
                 "mkldnn": torch.backends.mkldnn.is_available(), "autocast": shape.precision == "bfloat16"},
          method.warmup_steps)


if __name__ == "__main__":  # started by bench.training.Worker: --worker SPEC_JSON
    spec = json.loads(sys.argv[2])
    torch_worker(Shape(**spec["shape"]), Method(**spec["method"]))
