"""A token model: an embedding and a Transformer encoder, for `archscope flops
examples/token_model.py:build`.

The factory returns ``(module, example_inputs)``: the example is what the model is counted on
(its shapes and dtypes, batch first), here one sequence of 128 token ids (int64). Give another
with ``--input-size 4x256:int64``.
"""

import torch
from torch import nn


class TokenClassifier(nn.Module):
    """Token embedding + learned positions, a pre-norm Transformer encoder, mean-pooled head."""

    def __init__(self, vocab: int = 1000, dim: int = 64, heads: int = 4, layers: int = 2,
                 max_len: int = 512, num_classes: int = 5) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.zeros(1, max_len, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=4 * dim, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, ids):
        x = self.embed(ids) + self.pos[:, : ids.shape[1]]  # N x L x dim
        x = self.encoder(x)
        return self.head(x.mean(dim=1))  # N x classes


def build(vocab: int = 1000, dim: int = 64, layers: int = 2):
    """The model and one example input: a batch of one sequence of 128 token ids."""
    return TokenClassifier(vocab, dim, layers=layers), torch.zeros(1, 128, dtype=torch.long)
