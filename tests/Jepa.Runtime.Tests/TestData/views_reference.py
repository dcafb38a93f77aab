"""Reference values for tests/Jepa.Runtime.Tests/Training/ViewsTests.cs, written the way LeJEPA's and I-JEPA's own code
writes them (plain PyTorch, no Jepa code):

    /usr/bin/python3 tests/Jepa.Runtime.Tests/TestData/views_reference.py

prints the values the test holds. Representations z[v, b, d] = sin(0.37 (v B D + b D + d) + 0.1), V = 4 views of
B = 5 samples, D = 3 (views 0-1 the "global" ones); predictions p = cos(...) of the same layout for the pairs case.
"""
import torch

V, B, D = 4, 5, 3
i = torch.arange(V * B * D, dtype=torch.float64).reshape(V, B, D)
z = torch.sin(0.37 * i + 0.1).requires_grad_(True)
p = torch.cos(0.23 * i - 0.4)

# LeJEPA: every view regresses to the mean of the global views (with gradient), plus a regularizer on each view,
# averaged over the views (here VICReg's variance and covariance terms, which draw nothing).
centers = z[:2].mean(0)
prediction = (centers - z).square().mean()
def variance(x):
    return torch.relu(1 - torch.sqrt(x.var(0) + 1e-4)).mean()
def covariance(x):
    c = x - x.mean(0)
    cov = c.T @ c / (x.shape[0] - 1)
    return (cov.square().sum() - cov.diagonal().square().sum()) / x.shape[1]
var_term = sum(variance(z[v]) for v in range(V)) / V
cov_term = sum(covariance(z[v]) for v in range(V)) / V
total = prediction + 25 * var_term + 1 * cov_term
total.backward()

# An EMA target over views 0-1 and a context over views 0-3 of one declaration: every pair but a view with itself.
target = z.detach()[:2]
pairs = [(c, t) for c in range(V) for t in range(2) if c != t]
pairwise = sum(torch.nn.functional.smooth_l1_loss(p[c], target[t], beta=1.0) for c, t in pairs) / len(pairs)

def show(name, x):
    values = x.flatten().tolist() if isinstance(x, torch.Tensor) else [x]
    print(f"{name} = [{', '.join(repr(float(v)) for v in values)}]")

show("prediction", float(prediction))
show("variance", float(var_term))
show("covariance", float(cov_term))
show("total", float(total))
show("gradient", z.grad)
show("pairwise", float(pairwise))
print("pairs", len(pairs))
