"""Regression with nn.init, model.apply, TensorDataset and random_split, Adam and MSE.

A plain PyTorch script (tests/test_pytorch_scripts.py runs it with its imports
rewritten to minidl). Prints its final metric on the last line.
"""
import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
generator = torch.Generator().manual_seed(42)
X = torch.rand(1000, 3, generator=generator) * 4 - 2
y = (torch.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - X[:, 2]).unsqueeze(1)
y = y + 0.05 * torch.randn(y.shape, generator=generator)
train_set, val_set = random_split(TensorDataset(X, y), [0.8, 0.2], generator=generator)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True, generator=generator)
val_loader = DataLoader(val_set, batch_size=200)

model = nn.Sequential(nn.Linear(3, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                      nn.Linear(64, 1))


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight, gain=nn.init.calculate_gain("tanh"))
        nn.init.zeros_(m.bias)


model.apply(init_weights)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
loss_fn = nn.MSELoss()
for epoch in range(30):
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()
        optimizer.step()

with torch.no_grad():
    total = sum(loss_fn(model(xb), yb).item() * len(yb) for xb, yb in val_loader)
rmse = math.sqrt(total / len(val_set))
print(f"validation rmse: {rmse:.4f}")
