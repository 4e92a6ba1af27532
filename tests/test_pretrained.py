"""Published weights, offline: seeded torchvision state_dicts in a temporary TORCH_HOME under the
weights' own file names, a local HTTP server on 127.0.0.1 for downloads, real digits for
fine-tuning. No test touches the internet.

The hash prefix in a published file name belongs to the published file, not to a seeded one. So
the hash check itself is tested on files whose sha256 is computed here (a matching and a
mismatching prefix), and the loading tests set the catalogue's expected prefix to the seeded
file's real one (``_expect``), which leaves the check running as in use.
"""

from __future__ import annotations

import copy
import hashlib
import http.server
import socket
import threading
import time
from pathlib import Path

import pytest
import torch

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.errors import DownloadError, InvalidArgumentError, WeightsError
from cnnzoo.pretrained import catalog, download, get_weights, list_weights
from tests._digits import write_digits_folder


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty TORCH_HOME; returns its checkpoints directory."""
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.delenv(download.OFFLINE_ENV, raising=False)
    import torch.hub

    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    return home / "hub" / "checkpoints"


@pytest.fixture
def catalogue(monkeypatch):
    """A private copy of the shipped catalogue, so a test can change expected hashes."""
    data = copy.deepcopy(catalog._shipped())
    monkeypatch.setattr(catalog, "_shipped", lambda: data)
    return data


def _entry(data, model, name):
    return next(w for w in data["models"][model]["weights"] if w["name"] == name)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expect(data, model, name, path):
    _entry(data, model, name)["hash_prefix"] = _sha(path)[:8]


def _seeded_resnet18(hub: Path, data) -> dict[str, torch.Tensor]:
    import torchvision

    torch.manual_seed(123)
    tv = torchvision.models.resnet18(weights=None)
    with torch.no_grad():  # non-trivial BatchNorm statistics, so buffers are checked too
        for m in tv.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    hub.mkdir(parents=True, exist_ok=True)
    path = hub / get_weights("resnet18").file_name
    torch.save(tv.state_dict(), path)
    _expect(data, "resnet18", "IMAGENET1K_V1", path)
    return tv.state_dict()


# --- the catalogue ---------------------------------------------------------------------------


def test_catalogue_is_what_torchvision_says():
    """The shipped file is regenerated from torchvision's weights API and must be identical
    (python -m cnnzoo.pretrained.catalog --write rewrites it)."""
    shipped = (Path(catalog.__file__).parent.parent / "measured" / "weights.json").read_text()
    assert catalog.render(catalog.generate()) == shipped


def test_every_torchvision_layout_model_has_weights_and_others_none():
    with_weights = set(catalog.models_with_weights())
    assert with_weights == set(catalog.TORCHVISION_NAMES)
    for name in cnnzoo.list_models():
        assert bool(list_weights(name)) == (name in with_weights), name
    card = cnnzoo.model_info("resnet18")
    assert card.has_weights and card.weights[0].name == "IMAGENET1K_V1"
    assert card.weights[0].acc5 == pytest.approx(89.078)
    assert not cnnzoo.model_info("lenet5").weights


def test_weights_names_resolve_as_torchvision_names_them():
    assert get_weights("resnet50").name == "IMAGENET1K_V2"  # torchvision's DEFAULT
    assert get_weights("resnet50", "ResNet50_Weights.IMAGENET1K_V1").name == "IMAGENET1K_V1"
    with pytest.raises(WeightsError, match="did you mean 'IMAGENET1K_V1'"):
        get_weights("resnet18", "IMAGENET1K_V2")
    with pytest.raises(WeightsError, match="alexnet_torchvision has them"):
        cnnzoo.create("alexnet", pretrained=True)
    for name in ("emotionnet", "fer_cnn", "lenet5", "lenet5_3x3", "mlp", "googlenet"):
        with pytest.raises(WeightsError, match="models with weights are: alexnet_torchvision"):
            cnnzoo.create(name, pretrained=True)
    with pytest.raises(WeightsError, match="inception_block has no published weights"):
        get_weights("inception_block")


# --- loading ---------------------------------------------------------------------------------


def test_pretrained_loads_exactly_the_cached_tensors(hub, catalogue):
    expected = _seeded_resnet18(hub, catalogue)
    for model in (
        cnnzoo.create("resnet18", pretrained=True),
        cnnzoo.create("resnet18", weights="IMAGENET1K_V1"),
    ):
        got = model.state_dict()
        assert got.keys() == expected.keys()
        assert all(torch.equal(got[k], expected[k]) for k in expected)
        assert model.pretrained["weights"] == "IMAGENET1K_V1" and not model.pretrained["new_head"]


def test_other_num_classes_loads_the_backbone_and_a_new_head(hub, catalogue):
    expected = _seeded_resnet18(hub, catalogue)
    model = cnnzoo.create("resnet18", pretrained=True, num_classes=10)
    got = model.state_dict()
    assert all(torch.equal(got[k], expected[k]) for k in expected if not k.startswith("fc."))
    assert got["fc.weight"].shape == (10, 512)
    assert model.pretrained["new_head"] and model.pretrained["initialised"] == [
        "fc.bias",
        "fc.weight",
    ]
    with pytest.raises(InvalidArgumentError, match="3-channel"):
        cnnzoo.create("resnet18", pretrained=True, in_chans=1)


def test_googlenet_weights_drop_the_aux_heads_and_keep_torchvision_logits(hub, catalogue):
    """torchvision's GoogLeNet weights hold aux1/aux2 and were trained with transform_input;
    cnnzoo's model has neither, so the loader drops the aux keys and the preprocessing uses the
    normalisation transform_input converts to: the logits are torchvision's."""
    import torchvision

    torch.manual_seed(0)
    tv = torchvision.models.googlenet(
        weights=None, aux_logits=True, transform_input=True, init_weights=True
    ).eval()
    path = hub / get_weights("googlenet_torchvision").file_name
    hub.mkdir(parents=True)
    torch.save(tv.state_dict(), path)
    _expect(catalogue, "googlenet_torchvision", "IMAGENET1K_V1", path)
    ours = cnnzoo.create("googlenet_torchvision", pretrained=True).eval()
    info = get_weights("googlenet_torchvision")
    assert info.transform_input and info.mean == (0.5, 0.5, 0.5)
    image = torch.rand(2, 3, 224, 224)
    imagenet = (image - torch.tensor(info.transforms.mean).view(1, 3, 1, 1)) / torch.tensor(
        info.transforms.std
    ).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = tv(imagenet)
        got = ours((image - 0.5) / 0.5)
    assert (got - expected).abs().max() <= 1e-4 * expected.abs().max()


# --- the hash check, the cache, the network ---------------------------------------------------


def test_hash_check_on_a_file_whose_sha256_is_known(tmp_path):
    f = tmp_path / "w.pth"
    f.write_bytes(b"cnnzoo weights")
    digest = hashlib.sha256(b"cnnzoo weights").hexdigest()
    download.check_hash(f, digest[:8])
    download.check_hash(f, digest)
    wrong = ("0" if digest[0] != "0" else "1") + digest[1:8]
    with pytest.raises(WeightsError, match=f"starts {digest[:8]}, expected {wrong}"):
        download.check_hash(f, wrong)


def test_cached_file_with_the_wrong_hash_loads_nothing_and_is_moved_aside(hub, catalogue):
    _seeded_resnet18(hub, catalogue)
    _entry(catalogue, "resnet18", "IMAGENET1K_V1")["hash_prefix"] = "f37072fd"  # the real one
    path = hub / "resnet18-f37072fd.pth"
    with pytest.raises(WeightsError, match=r"sha256 starts .* expected f37072fd; nothing was"):
        cnnzoo.create("resnet18", pretrained=True)
    assert not path.exists() and (hub / "resnet18-f37072fd.pth.bad-hash").exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_missing_file_without_network_names_the_url_and_the_path(hub, catalogue, capsys):
    url = f"http://127.0.0.1:{_closed_port()}/resnet18-f37072fd.pth"
    _entry(catalogue, "resnet18", "IMAGENET1K_V1")["url"] = url
    start = time.monotonic()
    with pytest.raises(DownloadError) as info:
        cnnzoo.create("resnet18", pretrained=True)
    assert time.monotonic() - start < 5
    target = hub / "resnet18-f37072fd.pth"
    assert url in str(info.value) and f"put it at {target}" in str(info.value)
    assert not hub.exists() or not any(hub.iterdir())
    assert main(["info", "resnet18"]) == 0  # info never downloads
    capsys.readouterr()
    assert main(["predict", "resnet18", "--pretrained", "x.jpg"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and url in err and str(target) in err


def test_offline_flag_touches_no_network(hub, catalogue, monkeypatch):
    monkeypatch.setenv(download.OFFLINE_ENV, "1")

    def no_network(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(download.urllib.request, "urlopen", no_network)
    with pytest.raises(DownloadError, match="CNNZOO_OFFLINE is set; download https://"):
        cnnzoo.create("resnet34", pretrained=True)
    _seeded_resnet18(hub, catalogue)  # a cached file is used without the network
    cnnzoo.create("resnet18", pretrained=True)


class _Server:
    """Serves one payload on 127.0.0.1; ``cut`` stops after that many bytes (Content-Length
    still announces the whole file)."""

    def __init__(self, payload: bytes, cut: int | None = None) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload if cut is None else payload[:cut])
                self.wfile.flush()
                outer.requests += 1

            def log_message(self, *args) -> None:
                pass

        self.requests = 0
        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/resnet18-f37072fd.pth"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _payload(tmp_path) -> tuple[bytes, dict[str, torch.Tensor]]:
    import torchvision

    torch.manual_seed(5)
    sd = torchvision.models.resnet18(weights=None).state_dict()
    f = tmp_path / "payload.pth"
    torch.save(sd, f)
    return f.read_bytes(), sd


def test_download_into_the_cache_then_no_network(hub, catalogue, tmp_path):
    payload, sd = _payload(tmp_path)
    server = _Server(payload)
    try:
        entry = _entry(catalogue, "resnet18", "IMAGENET1K_V1")
        entry["url"] = server.url
        entry["hash_prefix"] = hashlib.sha256(payload).hexdigest()[:8]
        model = cnnzoo.create("resnet18", pretrained=True, progress=False)
        assert torch.equal(model.conv1.weight, sd["conv1.weight"])
        assert sorted(p.name for p in hub.iterdir()) == ["resnet18-f37072fd.pth"]
        cnnzoo.create("resnet18", pretrained=True)  # from the cache
        assert server.requests == 1
    finally:
        server.close()


def test_interrupted_download_leaves_nothing_that_passes_for_complete(hub, catalogue, tmp_path):
    payload, _ = _payload(tmp_path)
    server = _Server(payload, cut=len(payload) // 2)
    try:
        entry = _entry(catalogue, "resnet18", "IMAGENET1K_V1")
        entry["url"] = server.url
        entry["hash_prefix"] = hashlib.sha256(payload).hexdigest()[:8]
        with pytest.raises(DownloadError, match="broke off after"):
            cnnzoo.create("resnet18", pretrained=True, progress=False)
        assert list(hub.iterdir()) == []  # no partial file, no temporary file
    finally:
        server.close()


def test_downloaded_file_with_the_wrong_hash_is_not_kept(hub, catalogue, tmp_path):
    payload, _ = _payload(tmp_path)
    server = _Server(payload)
    try:
        entry = _entry(catalogue, "resnet18", "IMAGENET1K_V1")
        entry["url"] = server.url  # the expected prefix stays the published one
        with pytest.raises(WeightsError, match="expected f37072fd"):
            cnnzoo.create("resnet18", pretrained=True, progress=False)
        assert list(hub.iterdir()) == []
    finally:
        server.close()


# --- predictions -----------------------------------------------------------------------------


def _photo(tmp_path) -> Path:
    from PIL import Image

    g = torch.Generator().manual_seed(1)
    pixels = (torch.rand(300, 400, 3, generator=g) * 255).to(torch.uint8).numpy()
    path = tmp_path / "photo.jpg"
    Image.fromarray(pixels).save(path)
    return path


def test_predict_uses_the_weights_preprocessing_and_categories(hub, catalogue, tmp_path, capsys):
    import torchvision
    from PIL import Image

    sd = _seeded_resnet18(hub, catalogue)
    photo = _photo(tmp_path)
    w = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    tv = torchvision.models.resnet18(weights=None).eval()
    tv.load_state_dict(sd)
    with Image.open(photo) as img, torch.no_grad():
        expected = torch.softmax(tv(w.transforms()(img.convert("RGB")).unsqueeze(0)), 1)[0]
    (pred,) = cnnzoo.predict(None, [photo], model="resnet18", weights="DEFAULT", topk=5)
    top = expected.topk(5)
    assert pred.indices == tuple(top.indices.tolist())
    assert [label for label, _ in pred.topk] == [w.meta["categories"][i] for i in pred.indices]
    assert pred.probabilities == pytest.approx(expected.tolist(), abs=1e-4)

    assert main(["predict", "resnet18", "--pretrained", str(photo), "--topk", "5"]) == 0
    out = capsys.readouterr().out
    assert w.meta["categories"][pred.indices[0]] in out and out.count("\n") == 7

    result = cnnzoo.explain(None, photo, model="resnet18", weights="IMAGENET1K_V1", save=False)
    assert result.label == pred.label and result.saliency.shape == (224, 224)
    assert main(["explain", "resnet18", "--pretrained", str(photo), "--out", str(tmp_path)]) == 0
    assert f"{pred.label} (" in capsys.readouterr().out
    assert (tmp_path / "photo_saliency.png").is_file()


def test_cli_without_weights_is_one_line(capsys, tmp_path):
    assert main(["predict", "lenet5", "--pretrained", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lenet5 has no published weights" in err
    assert main(["train", "lenet5", "--data", "folder:x", "--freeze-backbone"]) == 1
    assert "add --pretrained" in capsys.readouterr().err


def test_info_and_list_show_the_weights(hub, capsys):
    assert main(["info", "resnet50"]) == 0
    out = capsys.readouterr().out
    assert "IMAGENET1K_V2 (default): ImageNet-1K val acc@1 80.86%, acc@5 95.43%" in out
    assert "97.8 MB" in out and "recipe https://" in out
    assert main(["info", "vgg16", "--weights", "IMAGENET1K_FEATURES"]) == 0
    out = capsys.readouterr().out
    assert "IMAGENET1K_V1" not in out and "no classifier" in out and "note: These weights" in out
    assert "vgg16_features-amdegroot-88682ab5.pth (not downloaded yet)" in out
    assert main(["info", "vgg16", "--weights", "V3"]) == 1
    assert "vgg16 has no weights named 'V3'" in capsys.readouterr().err
    assert main(["list", "--pretrained", "--format", "json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == [m for m in cnnzoo.list_models() if list_weights(m)]


def test_summary_table_top5_column_is_reconciled():
    report = cnnzoo.check("summary_004")
    assert report.ok, report.failures
    rows = {r.id: r for r in report.tables[0].rows}
    assert rows["ResNet-152"].extra["top5_measured"] == pytest.approx(96.002)
    assert rows["Inception"].extra["top5_explained"] is True
    text = str(report)
    assert "Szegedy et al. 2015, Section 7" in text and "144 crops" in text
    assert "He et al. 2016, Table 4" in text and "Table 2: 15.3% top-5 error" in text


def test_a_changed_measurement_fails_the_summary_check(catalogue):
    _entry(catalogue, "vgg16", "IMAGENET1K_V1")["acc5"] = 91.0
    report = cnnzoo.check("summary_004")
    assert not report.ok
    assert any("VGGNet: top-5 92.30%" in f and "review it" in f for f in report.failures)


# --- fine-tuning on real digits --------------------------------------------------------------


def _finetune(tmp_path, hub, catalogue, freeze: bool, epochs: int, per_class: int = 8):
    expected = _seeded_resnet18(hub, catalogue)
    data = write_digits_folder(tmp_path / "digits", size=8, n_per_class=per_class)
    result = cnnzoo.train(
        "resnet18",
        f"folder:{data}",
        pretrained=True,
        freeze_backbone=freeze,
        image_size=32,
        epochs=epochs,
        batch_size=32,
        lr=0.01,
        out=tmp_path / "run",
        plots=False,
    )
    return expected, result


def test_freeze_backbone_leaves_every_backbone_tensor_identical(tmp_path, hub, catalogue, capsys):
    expected = _seeded_resnet18(hub, catalogue)
    data = write_digits_folder(tmp_path / "digits", size=8, n_per_class=8)
    run = tmp_path / "run"
    args = ["train", "resnet18", "--pretrained", "--freeze-backbone", "--image-size", "32"]
    args += ["--data", f"folder:{data}", "--epochs", "1", "--batch-size", "32", "--out", str(run)]
    assert main([*args, "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert (
        "note: starting from ResNet18_Weights.IMAGENET1K_V1: backbone loaded, new head for 10"
        in out
    )
    assert "backbone frozen" in out and "images resized to 32x32, 3 channels" in out
    # a resumed run repeats the plan: still frozen
    result = cnnzoo.train("resnet18", f"folder:{data}", resume=run / "last.pth", epochs=2)
    assert [r["epoch"] for r in result.history] == [1, 2]
    ck = torch.load(result.last, weights_only=True)
    sd = ck["state_dict"]
    backbone = [k for k in expected if not k.startswith("fc.")]
    assert all(torch.equal(sd[k], expected[k]) for k in backbone)  # incl. BatchNorm stats
    assert sd["fc.weight"].shape == (10, 512)
    assert ck["finetune"]["weights"] == "IMAGENET1K_V1" and ck["finetune"]["freeze_backbone"]
    assert ck["preprocess"] == {
        "size": [32, 32],
        "channels": 3,
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
    }
    # predict and evaluate repeat the recorded preprocessing on the 8x8 grey digits
    digit = next((tmp_path / "digits" / "test" / "3").iterdir())
    (pred,) = cnnzoo.predict(result.best, [digit])
    assert pred.label in [str(d) for d in range(10)]
    report = cnnzoo.evaluate(result.best, f"folder:{tmp_path / 'digits'}")
    assert report.num_images > 0


@pytest.mark.slow
@pytest.mark.onnx
def test_finetuning_learns_the_digits_with_and_without_freezing(tmp_path, hub, catalogue):
    for freeze in (False, True):
        where = tmp_path / ("frozen" if freeze else "full")
        where.mkdir()
        expected, result = _finetune(where, hub, catalogue, freeze, epochs=6, per_class=20)
        sd = torch.load(result.last, weights_only=True)["state_dict"]
        changed = [k for k in expected if not torch.equal(sd[k], expected[k])]
        if freeze:
            assert set(changed) == {"fc.weight", "fc.bias"}
        else:
            assert any(k.startswith("layer1.") for k in changed)
        best = max(r["val_acc"] for r in result.history)
        assert best > 0.4, (freeze, result.history)  # 10 classes: chance is 0.1
    # export repeats the recorded input adaptation: 3 x 32 x 32, the new head's 10 classes
    report = cnnzoo.export_onnx("resnet18", tmp_path / "digits.onnx", checkpoint=result.best)
    assert tuple(report.input_shape)[1:] == (3, 32, 32)
    assert tuple(report.output_shape)[1:] == (10,)


@pytest.mark.slow
def test_evaluate_published_weights_on_folders_named_by_category(hub, catalogue, tmp_path):
    from PIL import Image

    _seeded_resnet18(hub, catalogue)
    g = torch.Generator().manual_seed(2)
    for category in ("tench", "goldfish"):
        (tmp_path / "val" / category).mkdir(parents=True)
        for i in range(2):
            pixels = (torch.rand(64, 80, 3, generator=g) * 255).to(torch.uint8).numpy()
            Image.fromarray(pixels).save(tmp_path / "val" / category / f"{i}.png")
    report = cnnzoo.evaluate(None, f"folder:{tmp_path / 'val'}", model="resnet18", split="train")
    assert report.num_images == 4 and len(report.labels) == 1000
    assert report.support[0] == 2 and report.support[1] == 2  # tench is 0, goldfish 1


@pytest.mark.slow
@pytest.mark.onnx
def test_export_published_weights(hub, catalogue, tmp_path, capsys):
    _seeded_resnet18(hub, catalogue)
    out = tmp_path / "r18.onnx"
    assert main(["export", "resnet18", "--pretrained", "-o", str(out)]) == 0
    assert out.is_file() and "ResNet18_Weights.IMAGENET1K_V1" in capsys.readouterr().out
