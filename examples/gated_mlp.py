"""A gated MLP whose training step dies with "modified by an inplace operation".

`torch.sigmoid` saves its output for backward; scaling that output in place invalidates it.
"""

import torch
import torch.nn as nn


class GatedMLP(nn.Module):
    def __init__(self, dim: int = 8):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.gate = nn.Linear(dim, dim)

    def forward(self, x):
        g = torch.sigmoid(self.gate(x))
        g *= 2  # the in-place write that breaks backward
        h = torch.tanh(self.fc(x))
        h.mul_(g)
        return h


torch.manual_seed(0)
model = GatedMLP()
x = torch.randn(4, 8)
loss = model(x).pow(2).mean()
loss.backward()
print(float(loss))
