"""Imbalanced classes: WeightedRandomSampler over a ConcatDataset, CyclicLR per batch,
gradient clipping in two halves, a step hook, and weight averaging through
parameters_to_vector / vector_to_parameters.

A plain PyTorch script (tests/test_pytorch_scripts.py runs it with its imports
rewritten to minidl). Prints its final metric, the balanced accuracy of the
averaged weights on fresh data, on the last line.
"""
import torch
import torch.nn as nn
from torch.nn.utils import (clip_grads_with_norm_, get_total_norm, parameters_to_vector,
                            vector_to_parameters)
from torch.optim.lr_scheduler import CyclicLR
from torch.utils.data import ConcatDataset, DataLoader, TensorDataset, WeightedRandomSampler

torch.manual_seed(0)


def blob(n, center, label):
    x = torch.randn(n, 2) + torch.tensor(center)
    return TensorDataset(x, torch.full((n,), label, dtype=torch.long))


majority, minority = blob(900, [0.0, 0.0], 0), blob(100, [1.5, 1.5], 1)
train = ConcatDataset([majority, minority])
weights = [1.0 / len(majority)] * len(majority) + [1.0 / len(minority)] * len(minority)
sampler = WeightedRandomSampler(weights, num_samples=len(train), replacement=True)
loader = DataLoader(train, batch_size=50, sampler=sampler)

model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
scheduler = CyclicLR(optimizer, base_lr=0.005, max_lr=0.05, step_size_up=10)
steps = []
optimizer.register_step_post_hook(lambda opt, args, kwargs: steps.append(1))
loss_fn = nn.CrossEntropyLoss()

average, averaged = None, 0
for epoch in range(6):
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        total = get_total_norm([p.grad for p in model.parameters()])
        clip_grads_with_norm_(model.parameters(), 5.0, total)
        optimizer.step()
        scheduler.step()
    if epoch >= 3:   # average the weights of the last epochs
        with torch.no_grad():
            vector = parameters_to_vector(model.parameters())
            average = vector if average is None else (average * averaged + vector) / (averaged + 1)
            averaged += 1
assert len(steps) == 6 * len(loader)
vector_to_parameters(average, model.parameters())

test_sets = [blob(2000, [0.0, 0.0], 0), blob(2000, [1.5, 1.5], 1)]
with torch.no_grad():
    recalls = [(model(d.tensors[0]).argmax(1) == d.tensors[1]).float().mean().item()
               for d in test_sets]
print(f"balanced accuracy: {sum(recalls) / 2:.4f}")
