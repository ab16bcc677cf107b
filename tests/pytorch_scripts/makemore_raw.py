"""makemore part 2 as in the lecture: raw tensors C, W1, b1, W2, b2, C[X] lookups,
a manual update ``p.data += -lr * p.grad``, and sampling with torch.multinomial.

A plain PyTorch script (tests/test_pytorch_scripts.py runs it with its imports
rewritten to minidl). Prints its final metric on the last line.
"""
import torch
import torch.nn.functional as F
from words import WORDS

chars = sorted(set("".join(WORDS)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
block_size = 3


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            X.append(context)
            Y.append(stoi[ch])
            context = context[1:] + [stoi[ch]]
    return torch.tensor(X), torch.tensor(Y)


n = int(0.9 * len(WORDS))
Xtr, Ytr = build_dataset(WORDS[:n])
Xdev, Ydev = build_dataset(WORDS[n:])

g = torch.Generator().manual_seed(2147483647)
C = torch.randn((len(stoi), 10), generator=g)
W1 = torch.randn((30, 100), generator=g) * (5 / 3) / 30 ** 0.5
b1 = torch.randn(100, generator=g) * 0.01
W2 = torch.randn((100, len(stoi)), generator=g) * 0.01
b2 = torch.randn(len(stoi), generator=g) * 0
parameters = [C, W1, b1, W2, b2]
for p in parameters:
    p.requires_grad = True

for i in range(4000):
    ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
    emb = C[Xtr[ix]]
    h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
    loss = F.cross_entropy(h @ W2 + b2, Ytr[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 3000 else 0.01
    for p in parameters:
        p.data += -lr * p.grad

with torch.no_grad():
    h = torch.tanh(C[Xdev].view(-1, 30) @ W1 + b1)
    dev_loss = F.cross_entropy(h @ W2 + b2, Ydev).item()

out = []
for _ in range(3):
    context = [0] * block_size
    while True:
        h = torch.tanh(C[torch.tensor([context])].view(1, -1) @ W1 + b1)
        probs = F.softmax(h @ W2 + b2, dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        if ix == 0 or len(out) > 50:
            break
        out.append(itos[ix])
print(f"dev loss: {dev_loss:.4f}")
