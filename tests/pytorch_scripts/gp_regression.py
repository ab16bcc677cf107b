"""Gaussian-process regression written by hand, as in the PyTorch tutorials on GPs: an RBF
kernel whose length scale, signal and noise variances are fitted with Adam by minimising
the negative log marginal likelihood through torch.linalg.cholesky and
solve_triangular; then the posterior mean at test points against the true function."""
import math

import torch

torch.manual_seed(0)
dtype = torch.float64
x = torch.linspace(0, 1, 40, dtype=dtype).unsqueeze(-1)
y = torch.sin(2 * math.pi * x).squeeze(-1) + 0.1 * torch.randn(40, dtype=dtype)

log_lengthscale = torch.zeros((), dtype=dtype, requires_grad=True)
log_signal = torch.zeros((), dtype=dtype, requires_grad=True)
log_noise = torch.tensor(-2.0, dtype=dtype, requires_grad=True)
optimizer = torch.optim.Adam([log_lengthscale, log_signal, log_noise], lr=0.05)


def kernel(a, b):
    squared = (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(-1)
    return log_signal.exp() * torch.exp(-0.5 * squared / log_lengthscale.exp() ** 2)


def covariance():
    return kernel(x, x) + log_noise.exp() * torch.eye(len(x), dtype=dtype)


for step in range(300):
    optimizer.zero_grad()
    L = torch.linalg.cholesky(covariance())
    alpha = torch.linalg.solve_triangular(L, y.unsqueeze(-1), upper=False)
    loss = (0.5 * alpha.pow(2).sum() + torch.log(torch.diagonal(L)).sum()
            + 0.5 * len(x) * math.log(2 * math.pi))
    loss.backward()
    optimizer.step()
    if step % 100 == 0:
        print(step, loss.item())

with torch.no_grad():
    L = torch.linalg.cholesky(covariance())
    weights = torch.linalg.solve_triangular(
        L.T, torch.linalg.solve_triangular(L, y.unsqueeze(-1), upper=False), upper=True)
    x_test = torch.linspace(0, 1, 100, dtype=dtype).unsqueeze(-1)
    mean = (kernel(x_test, x) @ weights).squeeze(-1)
    rmse = (mean - torch.sin(2 * math.pi * x_test).squeeze(-1)).pow(2).mean().sqrt()
print(f"noise std {log_noise.exp().sqrt().item():.3f}, length scale "
      f"{log_lengthscale.exp().item():.3f}")
print(f"rmse: {rmse.item():.4f}")
