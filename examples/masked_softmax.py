"""Attention weights cleaned up in place after softmax (softmax saves its output for backward)."""

import torch

torch.manual_seed(0)
scores = torch.randn(2, 5, requires_grad=True)
attn = torch.softmax(scores, dim=-1)
attn[attn < 0.1] = 0  # in-place index assignment into a saved tensor
context = attn @ torch.randn(5, 3)
context.sum().backward()
print(scores.grad)
