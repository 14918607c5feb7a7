"""Read and write official Magenta RT v1 checkpoints (legacy T5X layout) with json+gzip+numpy.

The official checkpoint is a directory (or a ``.tar`` of one) holding one zarr v2 array per
parameter, ``target.<flax path>/`` with a ``.zarray`` and chunk files ``i.j`` (gzip or raw,
C order, ``<f4``, edge chunks stored full size; tensors over 64 MiB are split into several
chunks). Beside them sit the optimizer state (``state.param_states.*``) and a msgpack
``checkpoint`` file: only ``target.*`` is model weight, the rest is skipped unread. No
TensorFlow, JAX or tensorstore is needed.

Names and shapes are checked against the config *before* any data is read, and every
``target.*`` key must be used: one :class:`V1CheckpointError` names every missing,
unexpected and mis-shaped key.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import torch

from mrtd.errors import UserError
from mrtd.model.v1.config import SIZES, V1Config
from mrtd.model.v1.model import V1Model

Shape = tuple[int, ...]
#: (checkpoint name, tensors read, tensors in all); the CLI draws a bar with it.
LoadProgress = Callable[[str, int, int], None]

TARGET = "target."
_ZARRAY = ".zarray"
_LIST_LIMIT = 12


class V1CheckpointError(UserError):
    """A v1 checkpoint that is missing, unreadable or does not match the model layout."""


# --------------------------------------------------------------------------- layout


def _attention(p: str, d: int, inner: int) -> dict[str, Shape]:
    return {f"{p}.query.kernel": (d, inner), f"{p}.key.kernel": (d, inner),
            f"{p}.value.kernel": (d, inner), f"{p}.out.kernel": (inner, d)}


def _mlp(p: str, d: int, m: int) -> dict[str, Shape]:
    return {f"{p}.wi_0.kernel": (d, m), f"{p}.wi_1.kernel": (d, m), f"{p}.wo.kernel": (m, d)}


def expected_shapes(cfg: V1Config) -> dict[str, Shape]:
    """Official parameter names (without ``target.``) -> shapes, kernels ``[in, out]``."""
    d, inner, m = cfg.d_model, cfg.inner_dim, cfg.mlp_dim
    s: dict[str, Shape] = {"token_embedder.embedding": (cfg.vocab, d)}
    for i in range(cfg.encoder_layers):
        p = f"encoder.layers_{i}"
        s |= {f"{p}.pre_attention_layer_norm.scale": (d,), f"{p}.pre_mlp_layer_norm.scale": (d,)}
        s |= _attention(f"{p}.attention", d, inner) | _mlp(f"{p}.mlp", d, m)
    s["encoder.encoder_norm.scale"] = (d,)
    for i in range(cfg.temporal_layers):
        p = f"decoder.decoder.temporal_decoder.layers_{i}"
        s |= {f"{p}.{n}.scale": (d,) for n in (
            "pre_self_attention_layer_norm", "pre_cross_attention_layer_norm", "pre_mlp_layer_norm")}
        s |= _attention(f"{p}.self_attention", d, inner)
        s |= _attention(f"{p}.encoder_decoder_attention", d, inner) | _mlp(f"{p}.mlp", d, m)
    s["decoder.decoder.temporal_decoder.relpos_bias.rel_embedding"] = (cfg.num_heads, cfg.temporal_buckets)
    for i in range(cfg.depth_layers):
        p = f"decoder.decoder.depth_decoder.depth_layers_{i}"
        s |= {f"{p}.pre_self_attention_layer_norm.scale": (d,), f"{p}.pre_mlp_layer_norm.scale": (d,)}
        s |= _attention(f"{p}.self_attention", d, inner) | _mlp(f"{p}.mlp", d, m)
    s["decoder.decoder.depth_decoder.relpos_bias_depth.rel_embedding"] = (cfg.num_heads, cfg.depth_buckets)
    s["decoder.decoder_norm.scale"] = (d,)
    s["decoder.logits_dense.kernel"] = (d, cfg.vocab)
    return s


def _module_name(key: str) -> tuple[str, bool]:
    """Official key -> (V1Model parameter name, transpose?)."""
    fixed = {
        "token_embedder.embedding": ("token_embedder", False),
        "encoder.encoder_norm.scale": ("encoder.encoder_norm", False),
        "decoder.decoder.temporal_decoder.relpos_bias.rel_embedding": ("decoder.relpos_bias", False),
        "decoder.decoder.depth_decoder.relpos_bias_depth.rel_embedding": ("decoder.relpos_bias_depth", False),
        "decoder.decoder_norm.scale": ("decoder_norm", False),
        "decoder.logits_dense.kernel": ("logits_dense", True),
    }
    if key in fixed:
        return fixed[key]
    name = re.sub(r"^encoder\.layers_(\d+)\.", r"encoder.layers.\1.", key)
    name = re.sub(r"^decoder\.decoder\.temporal_decoder\.layers_(\d+)\.", r"decoder.temporal.\1.", name)
    name = re.sub(r"^decoder\.decoder\.depth_decoder\.depth_layers_(\d+)\.", r"decoder.depth.\1.", name)
    name = name.replace(".pre_attention_layer_norm.", ".pre_self_attention_layer_norm.")
    name = name.replace(".attention.", ".self_attention.") if name.startswith("encoder.") else name
    if name.endswith(".scale"):
        return name[: -len(".scale")], False
    return name[: -len(".kernel")], True


def _listing(title: str, items: list[str]) -> str:
    shown = items[:_LIST_LIMIT]
    more = f" ... and {len(items) - len(shown)} more" if len(items) > len(shown) else ""
    return f"{title} ({len(items)}): " + ", ".join(shown) + more


def check_layout(found: Mapping[str, Shape], expected: Mapping[str, Shape], source: str) -> None:
    """Raise one V1CheckpointError naming every missing, unexpected and mis-shaped key."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    misshaped = sorted(f"{k} is {list(found[k])}, expected {list(expected[k])}"
                       for k in set(found) & set(expected) if tuple(found[k]) != tuple(expected[k]))
    problems = [_listing(t, x) for t, x in (("missing keys", missing), ("unexpected keys", unexpected),
                                            ("wrong shapes", misshaped)) if x]
    if problems:
        raise V1CheckpointError(f"{source} does not match the v1 model layout: " + "; ".join(problems))


def infer_config(shapes: Mapping[str, Shape], source: str = "checkpoint") -> V1Config:
    """A V1Config from parameter shapes: a named size when the dims match one, else custom."""
    need = {"emb": "token_embedder.embedding",
            "rel": "decoder.decoder.temporal_decoder.relpos_bias.rel_embedding",
            "rel_d": "decoder.decoder.depth_decoder.relpos_bias_depth.rel_embedding",
            "q": "encoder.layers_0.attention.query.kernel", "mlp": "encoder.layers_0.mlp.wi_0.kernel"}
    missing = sorted(k for k in need.values() if k not in shapes)
    if missing:
        raise V1CheckpointError(f"{source} is not a v1 checkpoint: " + _listing("missing keys", missing))

    def count(pattern: str) -> int:
        return len({m.group(1) for k in shapes if (m := re.match(pattern, k))})

    (vocab, d), (heads, tb), (_, db) = shapes[need["emb"]], shapes[need["rel"]], shapes[need["rel_d"]]
    cfg = V1Config(
        name="v1_custom", d_model=d, num_heads=heads, head_dim=shapes[need["q"]][1] // max(heads, 1),
        mlp_dim=shapes[need["mlp"]][1], vocab=vocab, temporal_buckets=tb, depth_buckets=db,
        temporal_max_distance=tb, depth_max_distance=db,
        encoder_layers=count(r"encoder\.layers_(\d+)\."),
        temporal_layers=count(r"decoder\.decoder\.temporal_decoder\.layers_(\d+)\."),
        depth_layers=count(r"decoder\.decoder\.depth_decoder\.depth_layers_(\d+)\."),
    )
    for named in SIZES.values():
        if named == V1Config(**{**cfg.__dict__, "name": named.name}):
            return named
    return cfg


# --------------------------------------------------------------------------- stores


class _Store:
    """Read-only file access below a checkpoint root (a directory or a tar archive)."""

    source: str

    def names(self) -> list[str]:
        raise NotImplementedError

    def read(self, name: str) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _DirStore(_Store):
    def __init__(self, root: Path):
        self.root, self.source = root, str(root)
        self._names: list[str] | None = None

    def names(self) -> list[str]:
        if self._names is None:
            self._names = []
            for dirpath, _, files in os.walk(self.root):
                rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
                self._names += [f if rel == "." else f"{rel}/{f}" for f in files]
        return self._names

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()


class _TarStore(_Store):
    """Members are read in place (no extraction to disk)."""

    def __init__(self, path: Path):
        self.source = str(path)
        try:
            self.tar = tarfile.open(path, "r:*")  # noqa: SIM115 (closed by close())
            self.members = {m.name.removeprefix("./"): m for m in self.tar.getmembers() if m.isfile()}
        except (tarfile.TarError, OSError, EOFError) as e:
            raise V1CheckpointError(f"{path}: not a readable tar archive ({e})") from None

    def names(self) -> list[str]:
        return list(self.members)

    def read(self, name: str) -> bytes:
        f = self.tar.extractfile(self.members[name])
        assert f is not None
        return f.read()

    def close(self) -> None:
        self.tar.close()


def _open(path: str | os.PathLike) -> _Store:
    path = Path(path)
    if path.is_dir():
        return _DirStore(path)
    if path.is_file():
        return _TarStore(path)
    raise V1CheckpointError(f"v1 checkpoint not found: {path}")


def _targets(store: _Store) -> dict[str, str]:
    """Parameter name -> its array folder inside the store (``.../target.<name>``).

    The root is wherever the ``target.*`` folders are (a tar usually nests them one or two
    folders deep); everything outside ``target.*`` is ignored.
    """
    out: dict[str, str] = {}
    roots = set()
    for name in store.names():
        parts = name.split("/")
        if len(parts) >= 2 and parts[-1] == _ZARRAY and parts[-2].startswith(TARGET):
            roots.add("/".join(parts[:-2]))
            out[parts[-2][len(TARGET):]] = "/".join(parts[:-1])
    if len(roots) > 1:
        raise V1CheckpointError(f"{store.source}: holds several checkpoints ({', '.join(sorted(roots))})")
    if not out:
        raise V1CheckpointError(f"{store.source}: no target.* parameter arrays (not a v1 T5X checkpoint)")
    return out


def _meta(store: _Store, folder: str) -> dict:
    try:
        meta = json.loads(store.read(f"{folder}/{_ZARRAY}"))
        if meta.get("zarr_format") != 2 or "shape" not in meta or "chunks" not in meta:
            raise ValueError("not zarr v2")
        return meta
    except (OSError, ValueError, KeyError) as e:
        raise V1CheckpointError(f"{store.source}: {folder}/.zarray is unreadable ({e})") from None


def _decompress(raw: bytes, compressor: dict | None, where: str) -> bytes:
    if compressor is None:
        return raw
    cid = compressor.get("id")
    try:
        if cid == "gzip":
            return gzip.decompress(raw)
        if cid == "zlib":
            return zlib.decompress(raw)
    except (OSError, zlib.error, EOFError) as e:
        raise V1CheckpointError(f"{where}: corrupt {cid} chunk ({e})") from None
    raise V1CheckpointError(f"{where}: unsupported zarr compressor {cid!r} (gzip, zlib or raw)")


def _read_array(store: _Store, folder: str, meta: dict) -> np.ndarray:
    """Assemble a zarr v2 array from its chunk files (edge chunks are stored full size)."""
    where = f"{store.source}: {folder}"
    shape, chunks = tuple(meta["shape"]), tuple(meta["chunks"])
    if meta.get("filters"):
        raise V1CheckpointError(f"{where}: zarr filters are not supported")
    if meta.get("order", "C") != "C":
        raise V1CheckpointError(f"{where}: only C-order zarr arrays are supported")
    try:
        dtype = np.dtype(meta["dtype"])
    except TypeError:
        raise V1CheckpointError(f"{where}: unsupported zarr dtype {meta['dtype']!r}") from None
    if dtype.kind != "f":
        raise V1CheckpointError(f"{where}: dtype {meta['dtype']!r} is not floating point")
    sep = meta.get("dimension_separator", ".")
    out = np.empty(shape, dtype=np.float32)
    grid = [range(math.ceil(s / c)) if c else range(1) for s, c in zip(shape, chunks)]
    names = set(store.names()) if meta.get("fill_value") is not None else None
    for idx in np.ndindex(*[len(g) for g in grid]) if shape else [()]:
        key = sep.join(map(str, idx)) if shape else "0"
        sel = tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(idx, chunks, shape))
        name = f"{folder}/{key}"
        if names is not None and name not in names:
            out[sel] = meta["fill_value"]
            continue
        try:
            raw = store.read(name)
        except (KeyError, OSError):
            raise V1CheckpointError(f"{where}: chunk {key} is missing") from None
        data = np.frombuffer(_decompress(raw, meta.get("compressor"), f"{where}/{key}"), dtype=dtype)
        if data.size != math.prod(chunks):
            raise V1CheckpointError(f"{where}: chunk {key} has {data.size} values, expected {math.prod(chunks)}")
        block = data.reshape(chunks)
        out[sel] = block[tuple(slice(0, s.stop - s.start) for s in sel)]
    return out


def _progress(progress: LoadProgress | None) -> LoadProgress | None:
    if progress is not None:
        return progress
    from mrtd.model.mrt2 import checkpoint as mrt2_checkpoint  # the CLI's bar hook

    return mrt2_checkpoint.progress_hook


def read_shapes(path: str | os.PathLike) -> dict[str, Shape]:
    """Parameter name -> shape of every ``target.*`` array (reads only the ``.zarray`` files)."""
    store = _open(path)
    try:
        return {k: tuple(_meta(store, f)["shape"]) for k, f in _targets(store).items()}
    finally:
        store.close()


def iter_checkpoint(path: str | os.PathLike, expected: Mapping[str, Shape] | None = None,
                    progress: LoadProgress | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """(name, float32 array) for every ``target.*`` array of a checkpoint dir or ``.tar``, one
    at a time (peak memory: one tensor), names without ``target.``. With ``expected``, names
    and shapes are checked first, before any data is read; any difference raises one
    V1CheckpointError."""
    store = _open(path)
    try:
        folders = _targets(store)
        metas = {k: _meta(store, f) for k, f in folders.items()}
        if expected is not None:
            check_layout({k: tuple(m["shape"]) for k, m in metas.items()}, expected, store.source)
        report = _progress(progress)
        for i, k in enumerate(sorted(folders), 1):
            yield k, _read_array(store, folders[k], metas[k])
            if report is not None:
                report(Path(store.source).name, i, len(folders))
    finally:
        store.close()


def read_checkpoint(path: str | os.PathLike, expected: Mapping[str, Shape] | None = None,
                    progress: LoadProgress | None = None) -> dict[str, np.ndarray]:
    """Every ``target.*`` array as a dict (see :func:`iter_checkpoint`)."""
    return dict(iter_checkpoint(path, expected, progress))


def is_v1_checkpoint(path: str | os.PathLike) -> bool:
    """True for a dir or tar holding a ``target.token_embedder.embedding`` zarr array
    (cheap: no array data is read)."""
    try:
        p = Path(path)
        if p.is_dir():  # the arrays at the top, or nested up to two folders deep
            marker = Path(f"{TARGET}token_embedder.embedding") / _ZARRAY
            level = [p]
            for _ in range(3):
                if any((d / marker).is_file() for d in level):
                    return True
                level = [c for d in level for c in d.iterdir() if c.is_dir() and not c.name.startswith(("target.", "state."))]
            return False
        if p.is_file() and tarfile.is_tarfile(p):
            with tarfile.open(p, "r:*") as tar:
                return any(n.endswith(f"{TARGET}token_embedder.embedding/{_ZARRAY}") for n in tar.getnames())
    except (OSError, tarfile.TarError, EOFError):
        return False
    return False


# --------------------------------------------------------------------------- model


def params_to_model(model: V1Model, params: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]],
                    ) -> V1Model:
    """Copy official-named float32 arrays (a dict, or an iterable of pairs consumed one at a
    time) into ``model``: kernels transposed to ``[out, in]``, each cast to its parameter's
    dtype. Names and shapes must be exactly the model's layout."""
    expected = expected_shapes(model.cfg)
    if isinstance(params, Mapping):
        check_layout({k: tuple(v.shape) for k, v in params.items()}, expected, "params")
        params = params.items()
    own = dict(model.named_parameters())
    done: set[str] = set()
    with torch.no_grad():
        for key, arr in params:
            if key not in expected or tuple(arr.shape) != expected[key]:
                check_layout({key: tuple(arr.shape)}, {key: expected.get(key, ())}, "params")
            name, transpose = _module_name(key)
            t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
            own[name].copy_(t.t() if transpose else t)
            done.add(key)
    missing = sorted(set(expected) - done)
    if missing:
        raise V1CheckpointError("params do not match the v1 model layout: " + _listing("missing keys", missing))
    return model


def load_v1(path: str | os.PathLike, cfg: V1Config | None = None, *, device: str | torch.device = "cpu",
            dtype: torch.dtype = torch.float32, progress: LoadProgress | None = None) -> V1Model:
    """Load an official v1 checkpoint (dir or ``.tar``) into a :class:`V1Model`, reading one
    tensor at a time into the model (peak host memory ~ the model plus one tensor).

    ``cfg`` None: inferred from the shapes (``v1_base`` / ``v1_large`` when they match).
    """
    if cfg is None:
        cfg = infer_config(read_shapes(path), str(path))
    model = V1Model(cfg, dtype)
    params_to_model(model, iter_checkpoint(path, expected_shapes(cfg), progress))
    return model.to(device).eval()


# --------------------------------------------------------------------------- writing


def random_params(cfg: V1Config, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 weights with the official names and shapes, scaled like the official
    initialisers (embedding N(0,1), fan-in kernels, query / sqrt(head_dim), unit norms), so
    activations stay in a sane range at any size."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for k, shape in expected_shapes(cfg).items():
        if k.endswith(".scale"):
            out[k] = np.ones(shape, np.float32)
        elif k.endswith("rel_embedding"):
            lim = math.sqrt(6.0 / sum(shape))
            out[k] = rng.uniform(-lim, lim, shape).astype(np.float32)
        else:
            a = rng.standard_normal(shape, dtype=np.float32)
            if k.endswith(".kernel"):
                std = 1.0 / math.sqrt(shape[0]) / (math.sqrt(cfg.head_dim) if ".query." in k else 1.0)
                a *= np.float32(std)
            out[k] = a
    return out


def chunk_shape(shape: Shape, target_elements: int) -> list[int]:
    """t5x's chunking rule: the largest chunk that divides the shape evenly and holds at most
    ``target_elements``, found by repeatedly shrinking the largest dimension to its next
    smaller divisor."""
    factors = [[i for i in range(1, s + 1) if s % i == 0] for s in shape]
    while math.prod(f[-1] for f in factors) > max(target_elements, 1):
        i = max(range(len(shape)), key=lambda j: (factors[j][-1], -j))
        factors[i].pop()
    return [f[-1] for f in factors]


def _chunks_of(arr: np.ndarray, chunks: list[int]) -> Iterator[tuple[str, np.ndarray]]:
    grid = [math.ceil(s / c) for s, c in zip(arr.shape, chunks)]
    for idx in np.ndindex(*grid):
        block = np.zeros(chunks, np.float32)  # edge chunks are stored full size
        sel = tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(idx, chunks, arr.shape))
        block[tuple(slice(0, s.stop - s.start) for s in sel)] = arr[sel]
        yield ".".join(map(str, idx)), block


def write_checkpoint(path: str | os.PathLike, params: Mapping[str, np.ndarray],
                     chunk_bytes: int = 64 << 20, *, compress: bool = True,
                     chunks: Mapping[str, list[int]] | None = None) -> Path:
    """Write ``params`` (official names, float32) as a legacy T5X checkpoint directory:
    ``target.<name>/.zarray`` + chunk files, gzip level 1 (``compress=False``: raw chunks),
    chunked by t5x's rule for ``chunk_bytes``, or by ``chunks`` per key when given. No
    optimizer state and no msgpack ``checkpoint`` file (readers of weights never need them)."""
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    for k, v in params.items():
        arr = np.ascontiguousarray(v, dtype=np.float32)
        ch = list(chunks[k]) if chunks and k in chunks else chunk_shape(arr.shape, chunk_bytes // 4)
        folder = root / f"{TARGET}{k}"
        folder.mkdir(exist_ok=True)
        meta = {"chunks": ch, "compressor": {"id": "gzip", "level": 1} if compress else None,
                "dimension_separator": ".", "dtype": "<f4", "fill_value": None, "filters": None,
                "order": "C", "shape": list(arr.shape), "zarr_format": 2}
        (folder / _ZARRAY).write_text(json.dumps(meta, sort_keys=True, separators=(",", ":")))
        for key, block in _chunks_of(arr, ch):
            raw = block.astype("<f4").tobytes()
            (folder / key).write_bytes(gzip.compress(raw, compresslevel=1, mtime=0) if compress else raw)
    return root
