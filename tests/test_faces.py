"""fer predict on real photos that scikit-image ships: detection, crops, JSON, annotation, bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

skimage_data = pytest.importorskip("skimage.data")

from fer_helpers import faces  # noqa: E402
from fer_helpers.errors import FerError  # noqa: E402
from fer_helpers.labels import FERPLUS_CLASSES  # noqa: E402
from fer_helpers.model import build, save_model_dir  # noqa: E402
from fer_helpers.video import _iou  # noqa: E402  (boxes x, y, w, h)

# where the astronaut's face is in skimage.data.astronaut() (x, y, w, h), as Haar finds it
ASTRONAUT_FACE = (177, 67, 93, 93)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage_data.astronaut()


@pytest.fixture(scope="module")
def group(astronaut) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Three people on one canvas: the astronaut, mirrored, and again; with their expected face boxes."""
    canvas = np.full((600, 1800, 3), 200, np.uint8)
    expected = []
    for i, img in enumerate([astronaut, astronaut[:, ::-1], astronaut]):
        x0, y0 = 600 * i, 40
        canvas[y0:y0 + 512, x0:x0 + 512] = img
        fx = ASTRONAUT_FACE[0] if i != 1 else 512 - ASTRONAUT_FACE[0] - ASTRONAUT_FACE[2]
        expected.append((x0 + fx, y0 + ASTRONAUT_FACE[1], ASTRONAUT_FACE[2], ASTRONAUT_FACE[3]))
    return canvas, expected


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny untrained model folder: prediction plumbing does not need a good model."""
    folder = tmp_path_factory.mktemp("model")
    save_model_dir(build("baseline", seed=0), folder)
    return folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut, group):
    d = tmp_path_factory.mktemp("photos")
    Image.fromarray(astronaut).save(d / "astronaut.jpg", quality=92)
    Image.fromarray(group[0]).save(d / "group.png")
    Image.fromarray(skimage_data.coffee()).save(d / "coffee.webp")
    return d


# --------------------------------------------------------------------------------------------
# load_image

def test_load_image_formats_and_gray(tmp_path, astronaut):
    for ext in ("jpg", "png", "bmp", "webp"):
        Image.fromarray(astronaut).save(tmp_path / f"a.{ext}")
        img = faces.load_image(tmp_path / f"a.{ext}")
        assert img.shape == (512, 512, 3) and img.dtype == np.uint8
    Image.fromarray(astronaut[..., 0]).save(tmp_path / "gray.png")
    gray = faces.load_image(tmp_path / "gray.png")
    assert gray.shape == (512, 512, 3) and (gray[..., 0] == gray[..., 2]).all()
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    assert faces.load_image(tmp_path / "rgba.png").shape == (512, 512, 3)


def test_load_image_honours_exif_rotation(tmp_path, astronaut):
    wide = astronaut[:200]  # 512 wide, 200 high
    img = Image.fromarray(wide)
    exif = img.getexif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    img.save(tmp_path / "rot.jpg", exif=exif)
    assert faces.load_image(tmp_path / "rot.jpg").shape == (512, 200, 3)


@pytest.mark.parametrize("name, content, message", [
    ("notes.jpg", b"this is text, not a photo\n", "not an image"),
    ("empty.png", b"", "empty file"),
])
def test_load_image_bad_files(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(FerError, match=message) as err:
        faces.load_image(tmp_path / name)
    assert "\n" not in str(err.value) and name in str(err.value)


def test_load_image_truncated_and_missing(tmp_path, astronaut):
    Image.fromarray(astronaut).save(tmp_path / "full.jpg")
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(FerError, match="truncated"):
        faces.load_image(tmp_path / "cut.jpg")
    with pytest.raises(FerError, match="no such file"):
        faces.load_image(tmp_path / "absent.png")


# --------------------------------------------------------------------------------------------
# detection and crops

def test_detects_the_astronaut(astronaut):
    boxes = [f.box for f in faces.detect_faces(astronaut)]
    assert len(boxes) == 1
    assert _iou(boxes[0], ASTRONAUT_FACE) > 0.6
    # gray input works the same
    assert len(faces.detect_faces(astronaut.mean(axis=2).astype(np.uint8))) == 1


def test_detects_every_face_in_a_group(group):
    canvas, expected = group
    boxes = [f.box for f in faces.detect_faces(canvas)]
    assert len(boxes) == 3
    for box, want in zip(boxes, expected):  # sorted left to right
        assert _iou(box, want) > 0.5, (box, want)


def test_large_photo_is_searched_downscaled(group):
    import cv2

    canvas, expected = group
    big = cv2.resize(canvas, None, fx=2, fy=2)
    boxes = [f.box for f in faces.detect_faces(big)]
    assert len(boxes) == 3
    assert _iou(boxes[0], tuple(2 * v for v in expected[0])) > 0.5


# photos without faces, alignment and the crop's geometry: tests/test_detect.py


def test_crop_face_shape_and_border(astronaut):
    crop = faces.crop_face(astronaut, ASTRONAUT_FACE)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    corner = faces.crop_face(astronaut, (0, 0, 60, 60))  # square reaches outside the photo: padded
    assert corner.shape == (48, 48)
    with pytest.raises(FerError, match="positive size"):
        faces.crop_face(astronaut, (0, 0, 0, 10))


# --------------------------------------------------------------------------------------------
# prediction and drawing

def test_predict_faces(astronaut, group, model_dir):
    from fer_helpers.model import load_model_dir

    model, classes = load_model_dir(model_dir)
    found = faces.predict_faces(group[0], model, classes)
    assert len(found) == 3
    for f in found:
        assert set(f) == {"box", "label", "confidence", "probabilities", "eyes"}  # BlazeFace gives the eyes
        assert list(f["probabilities"]) == list(FERPLUS_CLASSES)
        assert sum(f["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
        assert f["label"] == max(f["probabilities"], key=f["probabilities"].get)
        assert f["confidence"] == pytest.approx(max(f["probabilities"].values()))
    whole = faces.predict_faces(astronaut, model, detect=False)
    assert len(whole) == 1 and whole[0]["box"] == [0, 0, 512, 512]
    assert faces.predict_faces(skimage_data.coffee(), model) == []


def test_annotate_draws_without_touching_the_original(astronaut):
    before = astronaut.copy()
    f = {"box": list(ASTRONAUT_FACE), "label": "happiness", "confidence": 0.9,
         "probabilities": {c: 1 / 8 for c in FERPLUS_CLASSES}}
    out = faces.annotate(astronaut, [f])
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    assert (astronaut == before).all() and (out != astronaut).any()
    assert faces.annotate(astronaut[..., 0], []).shape == (512, 512, 3)


# --------------------------------------------------------------------------------------------
# fer predict

def test_run_predict_table(photos, model_dir, capsys):
    rc = faces.run_predict([str(photos)], str(model_dir), as_json=False, annotate_dir=None, detect=True)
    out, err = capsys.readouterr()
    assert rc == 0 and err == ""
    assert "astronaut.jpg (512x512): 1 face" in out
    assert "group.png (1800x600): 3 faces" in out
    assert "coffee.webp (600x400): no face found" in out
    assert "3 images, 4 faces" in out


def test_run_predict_json_is_stable_and_annotates(photos, model_dir, tmp_path, capsys):
    args = ([str(photos / "group.png"), str(photos / "astronaut.jpg")], str(model_dir))
    assert faces.run_predict(*args, as_json=True, annotate_dir=str(tmp_path / "ann"), detect=True) == 0
    first = capsys.readouterr().out
    assert faces.run_predict(*args, as_json=True, annotate_dir=str(tmp_path / "ann"), detect=True) == 0
    second = json.loads(capsys.readouterr().out)
    doc = json.loads(first)
    # the same results; a second run into the same folder writes new copies, never over the first
    assert [r.pop("annotated") for r in second["images"]] == [str(tmp_path / "ann" / n)
                                                             for n in ("group-2.png", "astronaut-2.png")]
    assert second == {**doc, "images": [{k: v for k, v in r.items() if k != "annotated"} for r in doc["images"]]}
    assert first == json.dumps(doc, indent=2, sort_keys=True) + "\n"
    assert doc["classes"] == list(FERPLUS_CLASSES) and doc["errors"] == []
    assert [len(r["faces"]) for r in doc["images"]] == [3, 1]
    for r in doc["images"]:
        for f in r["faces"]:
            assert sum(f["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
            assert all(len(repr(p).split(".")[-1]) <= 4 for p in f["probabilities"].values())
        written = Image.open(r["annotated"])
        assert written.size == tuple(r["size"])
    assert [r["annotated"] for r in doc["images"]] == [str(tmp_path / "ann" / n) for n in ("group.png", "astronaut.png")]
    assert sorted(p.name for p in (tmp_path / "ann").iterdir()) == ["astronaut-2.png", "astronaut.png",
                                                                     "group-2.png", "group.png"]


def test_run_predict_no_detect(photos, model_dir, capsys):
    rc = faces.run_predict([str(photos / "coffee.webp")], str(model_dir), as_json=True, annotate_dir=None,
                           detect=False)
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["detect"] is False
    assert doc["images"][0]["faces"][0]["box"] == [0, 0, 600, 400]


def test_run_predict_bad_inputs_are_reported_and_others_still_run(photos, model_dir, tmp_path, capsys):
    (tmp_path / "notes.jpg").write_text("not a photo")
    (tmp_path / "empty.png").write_bytes(b"")
    data = (photos / "astronaut.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    (tmp_path / "no_images").mkdir()
    inputs = [str(tmp_path / "notes.jpg"), str(tmp_path / "empty.png"), str(tmp_path / "cut.jpg"),
              str(tmp_path / "missing.png"), str(tmp_path / "no_images"), str(photos / "astronaut.jpg"),
              str(photos / "coffee.webp")]
    rc = faces.run_predict(inputs, str(model_dir), as_json=False, annotate_dir=None, detect=True)
    out, err = capsys.readouterr()
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 5
    assert all(line.startswith("fer predict: ") for line in lines)
    for name, why in [("notes.jpg", "not an image"), ("empty.png", "empty file"), ("cut.jpg", "truncated"),
                      ("missing.png", "no such file"), ("no_images", "no photos or videos")]:
        assert any(name in line and why in line for line in lines), (name, lines)
    assert "astronaut.jpg (512x512): 1 face" in out and "no face found" in out
    assert "5 inputs failed" in out

    rc = faces.run_predict(inputs[:2] + inputs[-1:], str(model_dir), as_json=True, annotate_dir=None, detect=True)
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1 and len(doc["errors"]) == 2 and len(doc["images"]) == 1


def test_run_predict_with_haar_and_an_unknown_detector(photos, model_dir, capsys):
    astronaut = str(photos / "astronaut.jpg")
    rc = faces.run_predict([astronaut], str(model_dir), as_json=True, annotate_dir=None, detect=True, detector="haar")
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["detector"] == "haar" and len(doc["images"][0]["faces"]) == 1
    rc = faces.run_predict([astronaut], str(model_dir), as_json=True, annotate_dir=None, detect=True, detector="yolo")
    out, err = capsys.readouterr()
    assert rc == 2 and out == "" and err.count("\n") == 1 and "unknown face detector 'yolo'" in err


def test_run_predict_missing_or_broken_model(photos, tmp_path, capsys):
    rc = faces.run_predict([str(photos / "astronaut.jpg")], str(tmp_path / "nowhere"), False, None, True)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "model folder not found" in err

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.keras").write_bytes(b"PK\x03\x04 not really a zip")
    (broken / "labels.json").write_text(json.dumps(list(FERPLUS_CLASSES)))
    rc = faces.run_predict([str(photos / "astronaut.jpg")], str(broken), False, None, True)
    out, err = capsys.readouterr()
    assert rc == 2 and out == "" and err.count("\n") == 1 and "cannot load model" in err


def test_default_model_dir_is_in_the_project():
    from fer_helpers.evaluation import default_model_dir

    assert default_model_dir().parts[-2:] == ("models", "default")
    assert (default_model_dir().parent.parent / "fer_helpers").is_dir()
