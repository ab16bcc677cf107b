"""REINFORCE on a contextual bandit: a policy network picks one of three arms for
each of four contexts, and learns from sampled rewards through
Categorical.log_prob, with a mean-reward baseline and an entropy bonus."""
import torch
import torch.nn as nn
from torch.distributions import Categorical

torch.manual_seed(0)
policy = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
optimizer = torch.optim.Adam(policy.parameters(), lr=0.03)
contexts_one_hot = torch.eye(4)
best_arm = torch.tensor([0, 1, 2, 1])

for step in range(200):
    contexts = torch.randint(0, 4, (64,))
    dist = Categorical(logits=policy(contexts_one_hot[contexts]))
    actions = dist.sample()
    rewards = (actions == best_arm[contexts]).float()
    advantage = rewards - rewards.mean()
    loss = -(advantage * dist.log_prob(actions)).mean() - 0.01 * dist.entropy().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

with torch.no_grad():
    probs = Categorical(logits=policy(contexts_one_hot)).probs
    expected_reward = probs[torch.arange(4), best_arm].mean().item()
print(f"expected reward: {expected_reward:.4f}")
