"""A residual block: the classic `out += identity` after an in-place ReLU on a saved tensor."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim: int = 6):
        super().__init__()
        self.fc1 = nn.Linear(dim, dim)
        self.fc2 = nn.Linear(dim, dim)
        self.body = nn.Sequential(nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(inplace=True))

    def forward(self, x):
        identity = x
        out = torch.exp(self.fc1(x))
        F.relu(out, inplace=True)  # exp saved `out`: this write breaks backward
        out = self.fc2(out)
        out += identity
        return self.body(out)


torch.manual_seed(0)
block = Block()
x = torch.randn(4, 6)
block(x).sum().backward()
print(block.fc1.weight.grad.norm())
