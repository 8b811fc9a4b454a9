"""outplace: rewrite in-place PyTorch tensor operations that break autograd, and prove each rewrite."""

__version__ = "0.1.0"
