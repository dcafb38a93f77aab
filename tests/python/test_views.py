"""Views (jepa_torch.views, C#'s Views) and the projector (models.Projected, C#'s Projected<T>), against values computed
by hand and the definitions they mirror."""
import pytest
import torch

import jepa_torch as jt
from jepa_torch import corruptions as C, models as M, views as V


def _chain():
    """Links with per-sample draws, a per-batch draw (colour jitter's order) and a mask trimmed over the batch."""
    return C.Compose(C.RandomResizedCrop(scale=(0.3, 1.0), size=(6, 6)), C.HorizontalFlip(p=0.5),
                     C.ColorJitter(brightness=0.4, contrast=0.4, saturation=0, hue=0, p=0.8),
                     C.PixelMask(C.MultiBlockMask((3, 3), min_keep=2), patch=2))


def test_views_are_drawn_as_views_draw_draws_them_view_major():
    # C#'s Views.Draw: the batch repeated count times along the first axis and corrupted in one call.
    x, chain = torch.rand(8, 1, 8, 8), _chain()
    drawn = V.draw(chain, x, 3, torch.Generator().manual_seed(4), jt.BatchPart.whole(8))
    expected = chain(x.repeat(3, 1, 1, 1), torch.Generator().manual_seed(4), jt.BatchPart.whole(24))
    assert drawn.shape == (24, 1, 6, 6) and torch.equal(drawn, expected)
    assert torch.equal(V.draw(chain, x, 1, torch.Generator().manual_seed(4), jt.BatchPart.whole(8)),
                       chain(x, torch.Generator().manual_seed(4), jt.BatchPart.whole(8)))


@pytest.mark.parametrize("world", [2, 4])
def test_each_process_draws_the_rows_of_its_part_in_every_view(world):
    # N processes each draw for the global batch and keep, in every view, the rows of their part: together they hold
    # exactly the views one process draws.
    x, chain, b = torch.rand(8, 1, 8, 8), _chain(), 8 // world
    whole = V.draw(chain, x, 3, torch.Generator().manual_seed(11), jt.BatchPart.whole(8)).reshape(3, 8, 1, 6, 6)
    for r in range(world):
        part = jt.BatchPart(r * b, (r + 1) * b, 8)
        mine = V.draw(chain, x[part.start:part.stop], 3, torch.Generator().manual_seed(11), part)
        assert torch.equal(mine.reshape(3, b, 1, 6, 6), whole[:, part.start:part.stop])


def test_a_views_part_keeps_per_view_rows():
    part = V.ViewsPart(jt.BatchPart(2, 4, 6), 3)
    assert (part.total, part.size) == (18, 6)
    assert part.of(torch.arange(18)).tolist() == [2, 3, 8, 9, 14, 15]


def test_stack_mean_pairwise_and_mean_over_views_by_hand():
    a, b = torch.randn(4, 5), torch.randn(2, 5)
    stacked = V.stack(3, torch.arange(12.).reshape(6, 2), torch.arange(12., 18.).reshape(3, 2))
    assert stacked.shape == (3, 3, 2) and stacked[1, 0].tolist() == [6.0, 7.0] and stacked[2, 2].tolist() == [16.0, 17.0]
    with pytest.raises(ValueError, match="do not split into 4 views"):
        V.stack(4, torch.zeros(6, 2))
    views = torch.randn(3, 4, 5)
    assert torch.allclose(V.mean(views)[0], (views[0] + views[1] + views[2]) / 3)
    # Context views 0..2 and target views 0..1 of one declaration: (0, 0) and (1, 1) are left out, 4 pairs remain.
    p, t = torch.randn(3, 4, 5), torch.randn(2, 4, 5)
    mse = lambda u, v: (u - v).square().mean()   # noqa: E731
    by_hand = (mse(p[0], t[1]) + mse(p[1], t[0]) + mse(p[2], t[0]) + mse(p[2], t[1])) / 4
    assert torch.allclose(V.pairwise(p, t, mse, same_view=(0, 0)), by_hand)
    assert torch.allclose(V.pairwise(p, t, mse), sum(mse(p[i], t[j]) for i in range(3) for j in range(2)) / 6)
    with pytest.raises(ValueError, match="No pair of different views"):
        V.pairwise(p[:1], t[:1], mse, same_view=(0, 0))
    # A regularizer per view, over both sides, with one draw per view in view order.
    draws = [torch.tensor(float(k)) for k in range(5)]
    value = V.mean_over_views(lambda z, d: z.sum() * d, p, t, draws=draws)
    assert torch.allclose(value, (sum(p[i].sum() * i for i in range(3)) + sum(t[j].sum() * (3 + j) for j in range(2))) / 5)
    assert torch.allclose(V.mean_over_views(lambda z: z.sum(), a.unsqueeze(0), b.unsqueeze(0)), (a.sum() + b.sum()) / 2)
    with pytest.raises(ValueError, match="4 draws for 5 views"):
        V.mean_over_views(lambda z, d: z.sum(), p, t, draws=draws[:4])


def test_the_projected_encoder_is_named_as_torchsharps_and_reads_through_the_head():
    torch.manual_seed(0)
    encoder = M.ConvEncoder((1, 8, 8), channels=[4], kernel=3, pool="mean", out=8, norm="batch")
    head = M.MlpEncoder((8,), hidden=[16], out=4, norm="batch")
    projected = M.Projected(encoder, head)
    names = list(projected.state_dict())
    assert names[0].startswith("encoder.stages.") and "projector.layers.fc0.weight" in names and "projector.layers.out.bias" in names
    assert set(names) == {f"encoder.{k}" for k in encoder.state_dict()} | {f"projector.{k}" for k in head.state_dict()}
    x = torch.randn(6, 1, 8, 8)
    assert torch.equal(projected(x), head(encoder(x))) and projected.output_width == 4
    with pytest.raises(ValueError, match="Only a vit encoder keeps masked tokens"):
        projected(x, torch.zeros(6, 2, dtype=torch.long))
    vit = M.Projected(M.VitEncoder((1, 8, 8), patch=2, dim=8, depth=1, heads=2), M.MlpEncoder((8,), hidden=[], out=4))
    keep = torch.tensor([[0, 3, 5]] * 6)
    assert vit(x, keep).shape == (6, 3, 4) and vit(x).shape == (6, 16, 4)   # the projector token by token
