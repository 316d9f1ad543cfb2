"""The Runs page's model zip: built when the button's callable runs, once per model file."""

from __future__ import annotations

import io
import json
import zipfile

from seqlab.runs import run_folder
from tests.tiny_runs import GENERATE_TINY, train_tiny, write_generation_text


def test_the_zip_is_built_on_demand_and_once_per_model_file(tmp_path, monkeypatch):
    import seqlab.infer.export as export
    from seqlab.ui import model_download

    root = tmp_path / "runs"
    root.mkdir()
    run = train_tiny(root, "tiny-generate", "generate", write_generation_text(tmp_path), **GENERATE_TINY)
    model_download._model_zip.clear()
    built, real = [], export.export_zip
    monkeypatch.setattr(export, "export_zip", lambda run_dir: built.append(run_dir) or real(run_dir))
    data = model_download.model_zip(run)
    assert built == []  # nothing happens until someone clicks
    first = data()
    assert data() == first and len(built) == 1
    assert "model.keras" in zipfile.ZipFile(io.BytesIO(first)).namelist()
    checksums = json.loads((run / run_folder.CHECKSUMS).read_text())
    (run / run_folder.CHECKSUMS).write_text(json.dumps({**checksums, "model.keras": "retrained"}))
    try:
        data()  # a new checksum is a new model: exported afresh (here refused, the file no longer matches)
    except Exception as error:  # noqa: BLE001 (Streamlit's download handler reports any failure alike)
        assert "checksum does not match" in str(error)
    assert len(built) == 2
