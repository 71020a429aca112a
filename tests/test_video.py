"""fer predict on a video made in the test from a real photo: frames, tracks, timeline, bad videos."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest
from PIL import Image

skimage_data = pytest.importorskip("skimage.data")

from fer_helpers import video  # noqa: E402
from fer_helpers.cli import main  # noqa: E402

FPS, N_FRAMES = 10, 20


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """The astronaut's head, large: the 240x240 square around her face shrunk to 160x160."""
    return cv2.resize(skimage_data.astronaut()[10:250, 105:345], (160, 160), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def clip(tmp_path_factory, face):
    """2 s at 10 fps, 480x240: the astronaut and her mirror image side by side, drifting 3 px a frame."""
    d = tmp_path_factory.mktemp("video")
    path = d / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (480, 240))
    assert writer.isOpened()
    for i in range(N_FRAMES):
        canvas = np.full((240, 480, 3), 200, np.uint8)
        x = 20 + 3 * i
        canvas[40:200, x:x + 160] = face
        canvas[40:200, x + 220:x + 380] = face[:, ::-1]
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    writer.release()
    Image.fromarray(skimage_data.astronaut()).save(d / "photo.jpg", quality=92)
    return path


def _predict(capsys, *args):
    code = main(["predict", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_is_video_and_frames_stream(clip):
    assert video.is_video(clip) and video.is_video("A.MKV") and not video.is_video("photo.jpg")
    got = list(video.frames(clip, every=3))
    assert [i for i, _, _ in got] == list(range(0, N_FRAMES, 3))
    assert got[1][1] == pytest.approx(3 / FPS) and got[0][2].shape == (240, 480, 3)


def test_tracker_keeps_ids_and_drops_lost_tracks():
    t = video.Tracker(max_missed=1)
    assert t.update([(0, 0, 10, 10), (100, 0, 10, 10)]) == [1, 2]
    assert t.update([(101, 0, 10, 10), (1, 0, 10, 10)]) == [2, 1]  # order of detection does not matter
    assert t.update([(1, 0, 10, 10)]) == [1]
    assert t.update([(1, 0, 10, 10)]) == [1]  # track 2 missed twice: dropped
    assert t.update([(1, 0, 10, 10), (101, 0, 10, 10)]) == [1, 3]  # back as a new track


def test_predict_video_json_timeline_and_annotation(clip, tmp_path, capsys):
    photo = clip.parent / "photo.jpg"
    code, out, err = _predict(capsys, clip, photo, "--json", "--timeline", tmp_path / "tl",
                              "--annotate", tmp_path / "ann", "--smooth", "0.5")
    assert code == 0, err
    doc = json.loads(out)
    rec, photo_rec = doc["images"]
    assert rec["fps"] == pytest.approx(FPS) and rec["size"] == [480, 240]
    assert [f["index"] for f in rec["frames"]] == list(range(N_FRAMES))
    assert photo_rec["path"] == str(photo) and len(photo_rec["faces"]) == 1
    tracks = [sorted(f["track"] for f in fr["faces"]) for fr in rec["frames"]]
    assert all(t == [1, 2] for t in tracks), tracks  # two people, two stable tracks
    left = [next(f for f in fr["faces"] if f["track"] == 1)["box"][0] for fr in rec["frames"]]
    assert left[-1] > left[0]  # track 1 follows the drifting face
    face0 = rec["frames"][0]["faces"][0]
    assert {"track", "box", "label", "confidence", "probabilities", "eyes"} <= set(face0)
    with open(tmp_path / "tl" / "clip.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * N_FRAMES and rows[0].keys() >= {"index", "time", "track", "label", "confidence"}
    assert set(doc["classes"]) <= set(rows[0])
    assert (tmp_path / "tl" / "clip.png").stat().st_size > 0
    cap = cv2.VideoCapture(rec["annotated"])
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == N_FRAMES
    cap.release()
    # a second run writes beside the first, never over it
    code, out, _ = _predict(capsys, clip, "--every", "2", "--timeline", tmp_path / "tl")
    assert code == 0 and (tmp_path / "tl" / "clip-2.csv").exists()
    assert "10 frames analysed): 2 tracks" in out and "0 images, 0 faces, 1 video" in out
    with open(tmp_path / "tl" / "clip-2.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == N_FRAMES


@pytest.mark.parametrize("content", [b"", np.random.default_rng(0).bytes(4000)], ids=["empty", "random"])
def test_bad_video_is_one_line_and_the_photo_still_runs(clip, tmp_path, capsys, content):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(content)
    code, out, err = _predict(capsys, bad, clip.parent / "photo.jpg")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "Traceback" not in err, err
    assert "photo.jpg (512x512): 1 face" in out


@pytest.mark.parametrize("option", [["--every", "0"], ["--smooth", "1"]])
def test_bad_options_are_one_line(clip, capsys, option):
    code, out, err = _predict(capsys, clip, *option)
    assert code == 2 and err.startswith("fer: error: --") and len(err.strip().splitlines()) == 1


def test_following_faces_between_searches_agrees_with_searching_every_frame(clip, monkeypatch):
    """The fast path (a whole-frame search every few frames, faces followed in between) gives
    the same tracks, nearly the same boxes and the same labels as a search of every frame."""
    from fer_helpers import detection
    from fer_helpers.engine import load_model

    searches = []
    search = detection.detect_faces
    monkeypatch.setattr(detection, "detect_faces", lambda *a, **k: searches.append(1) or search(*a, **k))
    model, classes = load_model(None, "onnx")
    fast = video.analyse_video(clip, model, classes, search_every=video.SEARCH_EVERY)
    assert len(searches) == -(-N_FRAMES // video.SEARCH_EVERY) and video.SEARCH_EVERY > 1
    slow = video.analyse_video(clip, model, classes, search_every=1)
    assert len(searches) == -(-N_FRAMES // video.SEARCH_EVERY) + N_FRAMES
    for a, b in zip(fast["frames"], slow["frames"], strict=True):
        assert [f["track"] for f in a["faces"]] == [f["track"] for f in b["faces"]] == [1, 2]
        for fa, fb in zip(a["faces"], b["faces"]):
            assert np.abs(np.subtract(fa["box"], fb["box"])).max() <= 0.1 * fb["box"][2]
            assert fa["label"] == fb["label"]


def test_missing_camera_is_one_line_and_the_photo_still_runs(clip, capsys):
    code, out, err = _predict(capsys, "--camera", "97", clip.parent / "photo.jpg")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "camera-97" in lines[0] and "Traceback" not in err, err
    assert "photo.jpg (512x512): 1 face" in out


class _StoppedCamera:
    """The test clip behind a camera's interface, with Ctrl-C pressed while frame ``stop`` is read."""

    def __init__(self, path, stop):
        self.cap, self.reads, self.stop = cv2.VideoCapture(str(path)), 0, stop

    def read(self):
        self.reads += 1
        if self.reads == self.stop:
            raise KeyboardInterrupt
        return self.cap.read()

    def __getattr__(self, name):  # get, grab, release, isOpened: the real capture's
        return getattr(self.cap, name)


def test_camera_runs_until_ctrl_c_and_keeps_what_it_saw(clip, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(video, "open_camera", lambda camera: _StoppedCamera(clip, stop=8))
    code, out, err = _predict(capsys, "--camera", "0", "--json", "--timeline", tmp_path)
    assert code == 0, err
    rec = json.loads(out)["images"][0]
    assert rec["path"] == "camera-0" and [f["index"] for f in rec["frames"]] == list(range(7))
    times = [f["time"] for f in rec["frames"]]
    assert times == sorted(times) and all(len(f["faces"]) == 2 for f in rec["frames"])
    assert (tmp_path / "camera-0.csv").is_file()


def test_a_folder_gives_its_videos_and_photos(clip, capsys):
    code, out, err = _predict(capsys, clip.parent)
    assert code == 0, err
    assert "clip.mp4 (480x240" in out and "photo.jpg (512x512): 1 face" in out
    assert out.rstrip().endswith("1 image, 1 face, 1 video")
