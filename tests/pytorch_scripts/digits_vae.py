"""A variational autoencoder on the binarised digits: a Gaussian posterior over four
latent dims drawn with rsample (the reparameterisation trick), a Bernoulli decoder,
and the ELBO through Independent, log_prob and kl_divergence against the prior."""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

torch.manual_seed(0)
images = torch.tensor((load_digits().data > 7).astype("float32"))
train, test = images[:1500], images[1500:]


class VAE(nn.Module):
    def __init__(self, latent=4, hidden=128):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, 64))

    def forward(self, x):
        """The ELBO of each image: E_q[log p(x | z)] - KL(q(z | x) || p(z))."""
        loc, log_scale = self.encoder(x).chunk(2, dim=-1)
        posterior = Independent(Normal(loc, log_scale.exp()), 1)
        prior = Independent(Normal(torch.zeros_like(loc), torch.ones_like(loc)), 1)
        z = posterior.rsample()
        likelihood = Independent(Bernoulli(logits=self.decoder(z)), 1)
        return likelihood.log_prob(x) - kl_divergence(posterior, prior)


model = VAE()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
for epoch in range(40):
    order = torch.randperm(len(train))
    for start in range(0, len(train), 100):
        batch = train[order[start:start + 100]]
        loss = -model(batch).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

with torch.no_grad():
    negative_elbo = -model(test).mean().item()
print(f"test negative ELBO: {negative_elbo:.3f}")
