"""MRT2 depthformer hyper-parameters (one dataclass, gpt-fast style).

Named configs carry the official sizes; ``from_manifest`` reads the ``config`` object of
an oracle ``*.manifest.json`` (official ModelSpec field names). Attention windows cannot
be read from tensor shapes, so ``infer_config`` takes them from the official size whose
temporal width matches and otherwise asks for an explicit config.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mrtd.errors import UserError
from mrtd.model.mrt2.codec_config import CodecConfig

DEPTHFORMER_PREFIX = "params/depthformer/"


class ConfigError(UserError):
    """A config that is unreadable or does not fit the checkpoint."""


@dataclass(frozen=True)
class MRT2Config:
    name: str = "mrt2_small"
    # conditioning encoder (embeddings + LayerNorm only)
    enc_dim: int = 256
    style_dim: int = 768  # MusicCoCa embedding size E
    style_channels: int = 12
    style_vocab: int = 1031  # per-channel vocab of the MusicCoCa ids (1024 + 7)
    # non-style conditioning channels: (channels, per-channel vocab) in input order:
    # notes, drums, CFG musiccoca+notes, CFG drums
    cond_groups: tuple[tuple[int, int], ...] = ((128, 11), (1, 9), (2, 47), (1, 15))
    cond_offset: int = 7  # raw value + 7 = id (masked -1 -> 6)
    # temporal transformer
    temporal_layers: int = 12
    temporal_dim: int = 1024
    temporal_heads: int = 8
    temporal_head_dim: int = 128
    temporal_ffn: int = 4096
    self_window: int = 41  # past frames visible to self-attention (plus the current one)
    cross_window: int = 41  # past conditioning frames visible to cross-attention
    num_sinks: int = 1
    # depth transformer
    depth_layers: int = 2
    depth_dim: int = 768
    depth_heads: int = 6
    depth_head_dim: int = 128
    depth_ffn: int = 3072
    # target tokens
    num_codebooks: int = 12
    codebook_size: int = 1024
    num_reserved: int = 6
    soft_cap: float = 30.0
    norm_eps: float = 1e-6
    codec: CodecConfig = field(default_factory=CodecConfig)

    @property
    def vocab_size(self) -> int:
        return self.num_codebooks * self.codebook_size + self.num_reserved

    @property
    def num_regular_channels(self) -> int:
        return sum(c for c, _ in self.cond_groups)

    @property
    def num_cond(self) -> int:
        """Length of the conditioning id vector (144)."""
        return self.style_channels + self.num_regular_channels

    @property
    def regular_vocab(self) -> int:
        """Rows used by the concatenated channel table (1526)."""
        return sum(c * v for c, v in self.cond_groups)

    @property
    def regular_rows(self) -> int:
        """Rows of the stored table: padded to a multiple of 128 (1536)."""
        return -(-self.regular_vocab // 128) * 128

    @classmethod
    def from_manifest(cls, src: str | os.PathLike | Mapping[str, Any]) -> "MRT2Config":
        """Config from a manifest path/dict (its ``config`` object) or the object itself."""
        if isinstance(src, Mapping):
            d = src
            name = str(d.get("size", "custom"))
        else:
            p = Path(src)
            if not p.is_file():
                raise ConfigError(f"config file not found: {p}")
            try:
                d = json.loads(p.read_text())
            except (OSError, ValueError) as e:
                raise ConfigError(f"{p}: not a readable JSON config: {e}") from None
            name = str(d.get("size", p.stem.split(".")[0]))
        c = d.get("config", d)
        try:
            return _from_spec(c, name)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise ConfigError(f"config lacks or has a bad official field: {e!r}") from None


def sampling_defaults(src: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """A manifest's ``defaults`` object (mrtd's own field beside the official ones): the
    sampling a model was made for, which its engine starts at instead of the schema's
    (``temperature`` 0-4, ``top_k`` 1-1024). The trained demo has one (temperature 0.8:
    at MRT2's 1.3 its tiny language model strays from silence and from the notes asked);
    official files have none."""
    d = src if isinstance(src, Mapping) else json.loads(Path(src).read_text())
    raw = d.get("defaults", {})
    out: dict[str, Any] = {}
    for key, value in raw.items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if key == "temperature" and number and 0.0 <= value <= 4.0:
            out[key] = float(value)
        elif key == "top_k" and number and isinstance(value, int) and 1 <= value <= 1024:
            out[key] = value
        else:
            raise ConfigError(f"manifest defaults: {key}={value!r} is not a temperature in [0, 4] or top_k in "
                              "[1, 1024]")
    return out


def _from_spec(c: Mapping[str, Any], name: str) -> MRT2Config:
    enc, tmp, dep = c["encoder_size"], c["decoder_temporal_size"], c["decoder_depth_size"]
    ins = c["input_configs"]
    style = ins[0]
    tgt = c.get("target", {})
    kw: dict[str, Any] = dict(
        name=name,
        enc_dim=int(enc["model_dims"]),
        style_dim=int(style["embedding_size"]),
        style_channels=int(style["channels"]),
        style_vocab=int(style["per_channel_vocab"]),
        cond_groups=tuple((int(i["channels"]), int(i["per_channel_vocab"])) for i in ins[1:]),
        temporal_layers=int(tmp["num_layers"]),
        temporal_dim=int(tmp["model_dims"]),
        temporal_heads=int(tmp["num_heads"]),
        temporal_head_dim=int(tmp["dim_per_head"]),
        temporal_ffn=int(tmp["hidden_dims"]),
        self_window=int(c["decoder_temporal_self_attention_max_past_horizon"]),
        cross_window=int(c["decoder_temporal_cross_attention_max_past_horizon"]),
        num_sinks=int(c.get("num_attention_sink_embeddings", 1)),
        depth_layers=int(dep["num_layers"]),
        depth_dim=int(dep["model_dims"]),
        depth_heads=int(dep["num_heads"]),
        depth_head_dim=int(dep["dim_per_head"]),
        depth_ffn=int(dep["hidden_dims"]),
    )
    if tgt:
        kw.update(
            num_codebooks=int(tgt["num_codebooks"]),
            codebook_size=int(tgt["codebook_size"]),
            num_reserved=int(tgt["num_reserved_tokens"]),
        )
    if c.get("use_rope"):
        raise ValueError("use_rope=True is not supported (MRT2 uses no positional encoding)")
    if kw["num_sinks"] not in (0, 1):
        raise ValueError(f"num_attention_sink_embeddings={kw['num_sinks']} (only 0 or 1 supported)")
    if "spectrostream" in c:
        kw["codec"] = CodecConfig.from_dict(c["spectrostream"])
    return MRT2Config(**kw)


mrt2_small = MRT2Config()
mrt2_base = MRT2Config(
    name="mrt2_base",
    enc_dim=1024,
    temporal_layers=20,
    temporal_dim=3072,
    temporal_heads=24,
    temporal_ffn=8192,
    self_window=25,
    cross_window=25,
    depth_layers=6,
    depth_dim=1024,
    depth_heads=8,
    depth_ffn=4096,
)
CONFIGS: dict[str, MRT2Config] = {"mrt2_small": mrt2_small, "mrt2_base": mrt2_base}

_P = DEPTHFORMER_PREFIX
_K_STYLE = _P + "encoder/body/layers_1/branched_mulan_embedder/mulan_embedder/mulan_dequantizer/embedding"
_K_ADAPT = _P + "encoder/body/layers_1/branched_mulan_embedder/mulan_embedder/depth_input_adapter/kernel"
_K_EMB = _P + "decoder/decoder_embedding/embedding/embedding"
_K_TMP = _P + "decoder/temporal_body/transformer/x_layers_{}/"
_K_DEP = _P + "decoder/depth_body/transformer/x_layers_{}/"


def _dims_from_shapes(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, tuple[int, str]]:
    """Every dimension the depthformer tensor shapes reveal, with the key that shows it
    (attention windows are not among them)."""
    def need(k: str) -> tuple[int, ...]:
        if k not in shapes:
            raise ConfigError(f"checkpoint has no tensor {k}: not an MRT2 generation checkpoint?")
        return tuple(shapes[k])

    def count(prefix: str) -> int:
        n = 0
        while any(k.startswith(prefix.format(n)) for k in shapes):
            n += 1
        return n

    def dim(k: str, i: int) -> tuple[int, str]:
        return need(k)[i], f"{k} {list(shapes[k])}"

    tq = _K_TMP.format(0) + "self_attention/attention/query_projection/kernel"
    dq = _K_DEP.format(0) + "self_attention/attention/query_projection/kernel"
    sink = _K_TMP.format(0) + "self_attention/attention/sink_key_embeddings"
    return dict(
        enc_dim=dim(_K_ADAPT, 1),
        style_dim=dim(_K_STYLE, 1),
        temporal_layers=(count(_K_TMP), "number of x_layers_* in temporal_body"),
        temporal_dim=dim(_K_EMB, 1),
        temporal_heads=dim(tq, 1),
        temporal_head_dim=dim(tq, 2),
        temporal_ffn=dim(_K_TMP.format(0) + "ffn/ffn_layer1/kernel", 1),
        depth_layers=(count(_K_DEP), "number of x_layers_* in depth_body"),
        depth_dim=dim(dq, 0),
        depth_heads=dim(dq, 1),
        depth_head_dim=dim(dq, 2),
        depth_ffn=dim(_K_DEP.format(0) + "ffn/ffn_layer1/kernel", 1),
        num_sinks=(int(sink in shapes), f"presence of {sink}"),
    )


def check_config(cfg: MRT2Config, shapes: Mapping[str, tuple[int, ...]], source: str = "checkpoint") -> None:
    """Raise ConfigError listing every dimension where ``cfg`` disagrees with the tensors."""
    dims = _dims_from_shapes(shapes)
    bad = [f"{k}: config {getattr(cfg, k)}, {source} {v} ({why})"
           for k, (v, why) in dims.items() if getattr(cfg, k) != v]
    if bad:
        raise ConfigError(f"config '{cfg.name}' does not match {source}: " + "; ".join(bad))


def infer_config(shapes: Mapping[str, tuple[int, ...]], source: str = "checkpoint") -> MRT2Config:
    """Config from tensor shapes; windows come from the official size with the same widths."""
    dims = {k: v for k, (v, _) in _dims_from_shapes(shapes).items()}
    for base in CONFIGS.values():
        if base.temporal_dim == dims["temporal_dim"] and base.depth_dim == dims["depth_dim"]:
            return replace(base, **dims)
    raise ConfigError(
        f"{source}: temporal width {dims['temporal_dim']} matches no official size "
        "(mrt2_small 1024, mrt2_base 3072), so its attention windows are unknown; "
        "pass the model manifest: --manifest MANIFEST.json"
    )
