"""Intentional mutation that outplace leaves alone: an SGD step under no_grad and a buffer update."""

import torch

torch.manual_seed(0)
w = torch.randn(3, requires_grad=True)
running = torch.zeros(3)
for _ in range(3):
    loss = (w * torch.arange(3.0)).sum()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        running.mul_(0.9).add_(w, alpha=0.1)
    w.grad.zero_()
print(w, running)
