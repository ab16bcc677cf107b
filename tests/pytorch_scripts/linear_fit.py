"""The first PyTorch example of many courses: fit y = 2x - 1 with nn.Linear, MSELoss
and SGD, then read the learned weight and bias with .item().

A plain PyTorch script (tests/test_pytorch_scripts.py runs it with its imports
rewritten to minidl). Prints its final metric on the last line.
"""
import torch
from torch import nn, optim

torch.manual_seed(1)
x = torch.linspace(-1, 1, 200).reshape(-1, 1)
y = 2 * x - 1 + 0.1 * torch.randn(x.size())
model = nn.Linear(1, 1)
criterion = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)
for step in range(300):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
weight, bias = model.weight.item(), model.bias.item()
print(f"weight {weight:.3f} bias {bias:.3f}")
print(f"final loss: {loss.item():.4f}")
