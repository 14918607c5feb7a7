"""python -m mrtd.devtools.v1_checkpoint: a random checkpoint in the official layout that
the real loader reads (folder and .tar) at the dims asked for."""

from __future__ import annotations

from pathlib import Path

import torch

from mrtd.devtools.v1_checkpoint import main
from mrtd.model.v1.checkpoint import is_v1_checkpoint, load_v1

CONFIG = Path(__file__).resolve().parents[1] / "fixtures" / "v1" / "config.json"


def test_writes_a_loadable_folder_and_tar(tmp_path, capsys):
    out = tmp_path / "v1_random"
    assert main([str(out), "--config", str(CONFIG), "--tar", "--seed", "3"]) == 0
    assert "4,097,600 parameters" in capsys.readouterr().out
    for path in (out, out.with_suffix(".tar")):
        assert is_v1_checkpoint(path)
        m = load_v1(path, progress=lambda *a: None)
        assert m.cfg.d_model == 64 and m.cfg.num_heads == 4
        with torch.no_grad():
            enc = m.encode(torch.ones(1, m.cfg.encoder_len, dtype=torch.long))
        assert torch.isfinite(enc).all()
    assert main([str(out), "--config", str(CONFIG)]) == 2  # never over an existing checkpoint
