"""CURVES and FACES (Hinton & Salakhutdinov, 2006) and the Olivetti faces: declared sizes, pixel range, each curve
one thin connected stroke on the curve its control points define, and person-disjoint splits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

import lamina
from lamina.data.curves import SEGMENTS, draw_curves
from lamina.data.faces import OLIVETTI_FILE, augment_faces
from tests.conftest import _has

needs_olivetti = pytest.mark.skipif(not _has([OLIVETTI_FILE.relpath]), reason="Olivetti not found in $LAMINA_DATA")


def test_curves_declared_sizes_are_the_papers():
    spec = lamina.data.spec("curves")
    assert (spec.train_size, spec.validation, spec.test_size) == (20000, 0, 10000)


def test_curves_are_thin_connected_strokes_on_their_bezier_curve():
    train, val, test = lamina.data.load("curves", train_size=150, test_size=20)
    assert val is None and (len(train), len(test)) == (150, 20)
    x, points = train.x[:, 0].numpy().astype(np.float64), train.y.numpy().reshape(-1, 3, 2).astype(np.float64)
    assert x.min() == 0 and x.max() == 1
    t = np.linspace(0, 1, 4001)[:, None]
    for image, (p0, p1, p2) in zip(x, points):
        _, components = ndimage.label(image > 0, structure=np.ones((3, 3)))
        assert components == 1  # one connected stroke
        curve = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2  # dense samples, (x, y) = (column, row)
        length = np.linalg.norm(np.diff(curve, axis=0), axis=1).sum()
        lit = np.argwhere(image > 0)
        distance = np.min(np.hypot(curve[:, 0][None] - lit[:, 1, None], curve[:, 1][None] - lit[:, 0, None]), axis=1)
        # each lit pixel's intensity is 1 - its distance to the curve (to the 8-bit rounding and the polyline)
        assert np.abs(distance - (1 - image[image > 0])).max() < 0.02
        assert distance.max() < 1.0  # nothing lit a pixel or more away: a thin line
        if length > 8:
            assert 0.6 < image.sum() / length < 1.3  # one pixel of intensity across the line per unit length


def test_draw_curves_of_a_straight_segment_has_the_tent_profile():
    points = torch.tensor([[[4.0, 10.0], [14.0, 10.0], [24.0, 10.0]]])  # a horizontal line along row 10
    image = draw_curves(points)[0]
    assert torch.allclose(image[10, 4:25], torch.ones(21, dtype=image.dtype))
    assert image[9].abs().sum() == 0 and image[11].abs().sum() == 0  # rows one pixel away: 1 - 1 = 0
    assert SEGMENTS >= 32


@needs_olivetti
def test_olivetti_has_forty_people_and_splits_them():
    train, val, test = lamina.data.load("olivetti", validation=30)
    assert train.x.shape[1:] == (1, 64, 64) and len(train) + len(val) + len(test) == 400
    assert set(test.y.tolist()).isdisjoint(train.y.tolist() + val.y.tolist())
    assert len(set(test.y.tolist())) == 10 and torch.bincount(test.y, minlength=40).max() == 10
    assert 0 <= float(train.x.min()) and float(train.x.max()) <= 1


@needs_olivetti
def test_faces_sizes_range_and_person_disjoint_splits():
    train, val, test = lamina.data.load("faces", variants=2)
    assert (len(train), len(val), len(test)) == (25 * 20, 5 * 20, 10 * 20)  # the paper's 25/5/10 people
    assert train.x.shape[1:] == (1, 25, 25) and 0 <= float(train.x.min()) and float(train.x.max()) <= 1
    people = [set(part.y.tolist()) for part in (train, val, test)]
    assert [len(p) for p in people] == [25, 5, 10]
    assert people[0].isdisjoint(people[1]) and people[0].isdisjoint(people[2]) and people[1].isdisjoint(people[2])
    assert lamina.data.spec("faces").variants * 400 == 165_600
    with pytest.raises(lamina.errors.DataError, match="validation_people"):
        lamina.data.load("faces", variants=2, validation=10)


def test_face_augmentation_is_seeded_and_keeps_a_centred_disc():
    face = torch.zeros(1, 64, 64, dtype=torch.float64)
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    face[0] = (((yy - 31.5) ** 2 + (xx - 31.5) ** 2) <= 8**2).double()  # a disc: the same under any turn
    a = augment_faces(face, np.random.default_rng(0), 50)
    b = augment_faces(face, np.random.default_rng(0), 50)
    assert torch.equal(a, b) and a.shape == (50, 25, 25)
    # the disc (radius 8 source pixels) shows with radius 8 * 25 / (102.4 / scale): area within the scale range
    area = a.sum((1, 2))
    lo, hi = np.pi * (8 * 25 / (102.4 / 1.4)) ** 2, np.pi * (8 * 25 / (102.4 / 1.8)) ** 2
    assert ((area > 0.8 * lo) & (area < 1.2 * hi)).all()
