"""Is a model file whole? Cheap structural checks for the official file types.

An interrupted download of a 10 GB checkpoint is the common failure, and loaded anyway
it surfaces much later as a confusing error; so every file mrtd finds passes here first:
safetensors header and data extent, TFLite identifier and flatbuffer bounds,
SentencePiece protobuf, and (on request) the sha256 the Hugging Face cache records.
No torch; the TFLite schema and sentencepiece are imported only when a check needs them.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
import stat
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")
# safetensors dtypes -> bytes per element (the format's own list, sub-byte floats excluded).
_ST_DTYPES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8,
}
_ST_MAX_HEADER = 100 << 20  # the safetensors library's own limit


def check_file(path: str | os.PathLike, verify: bool = False) -> str | None:
    """The problem with a model file, or None when it looks whole.

    Cheap by default (reads headers, maps TFLite files without copying them):
    safetensors header and data extent, TFLite identifier and flatbuffer bounds,
    SentencePiece loads. ``verify=True`` also hashes files whose sha256 is known: Hugging
    Face cache blobs (named by their sha256) and ``hf download --local-dir`` files (etag
    in ``.cache/huggingface/download``)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        return "broken symbolic link" if p.is_symlink() else "does not exist"
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_size == 0:
        return "empty file (0 bytes; an interrupted download?)"
    try:
        with open(p, "rb") as f:
            f.read(1)
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    name = p.name.lower()
    try:
        if name.endswith(".safetensors"):
            problem = _check_safetensors(p, st.st_size)
        elif name.endswith(".tflite"):
            problem = _check_tflite(p, st.st_size)
        elif name.endswith(".model"):
            problem = _check_spm(p)
        else:
            problem = None
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    if problem is None and verify:
        problem = _check_sha256(p)
    return problem


def _safetensors_header(p: Path, size: int) -> tuple[dict | None, int, str | None]:
    """(header, header length, problem) of a safetensors file."""
    if size < 8:
        return None, 0, f"too short for safetensors ({size} bytes; truncated)"
    with open(p, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        if n > _ST_MAX_HEADER:  # random bytes land here: say what it is, not "truncated"
            return None, n, f"not a safetensors file (header length {n} is implausible)"
        if n > size - 8:
            if f.read(1) not in (b"{", b""):
                return None, n, "not a safetensors file (no JSON header after its length)"
            return None, n, f"truncated: the header alone needs {n} bytes, the file has {size - 8} after its length"
        raw = f.read(n)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, n, f"not a safetensors file (header is not JSON: {getattr(e, 'msg', e)})"
    if not isinstance(header, dict):
        return None, n, "not a safetensors file (header is not a JSON object)"
    return header, n, None


def _check_safetensors(p: Path, size: int) -> str | None:
    header, n_header, problem = _safetensors_header(p, size)
    if problem or header is None:
        return problem
    data_len = size - 8 - n_header
    end = 0
    for key, t in header.items():
        if key == "__metadata__":
            continue
        try:
            dtype, shape, (b, e) = t["dtype"], t["shape"], t["data_offsets"]
            n = 1
            for d in shape:
                n *= int(d)
            b, e = int(b), int(e)
        except (KeyError, TypeError, ValueError):
            return f"corrupt header: bad entry for tensor {key!r}"
        if dtype not in _ST_DTYPES:
            return f"tensor {key!r} has unknown dtype {dtype!r}"
        if b < 0 or e < b or e - b != n * _ST_DTYPES[dtype]:
            return f"corrupt header: tensor {key!r} spans {e - b} bytes, its shape needs {n * _ST_DTYPES[dtype]}"
        end = max(end, e)
    if end > data_len:
        return f"truncated: tensors need {end} bytes of data, the file holds {data_len}"
    if end < data_len:
        return f"corrupt: {data_len - end} bytes after the last tensor"
    return None


def _check_tflite(p: Path, size: int) -> str | None:
    if size < 8:
        return f"too short for TFLite ({size} bytes; truncated)"
    with open(p, "rb") as f:
        head = f.read(8)
        if head[4:8] != b"TFL3":
            return "not a TFLite file (no TFL3 identifier)"
        try:
            from ai_edge_litert import schema_py_generated as schema
        except ImportError:  # the identifier is all we can check without the schema
            return None
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            return _tflite_bounds(schema, mm, size)
        except Exception as e:  # flatbuffers raises struct.error/IndexError on bad offsets
            return f"corrupt or truncated TFLite flatbuffer ({type(e).__name__}: {e})"
        finally:
            try:
                mm.close()
            except BufferError:
                pass


def _vec_end(tab, vt: int, elem: int) -> int:
    """End offset of a vector field (by vtable slot), 0 when absent."""
    o = tab.Offset(vt)
    return tab.Vector(o) + tab.VectorLen(o) * elem if o else 0


def _table_end(tab) -> int:
    """End offset of a table's inline fields and of its vtable."""
    from flatbuffers.number_types import SOffsetTFlags, VOffsetTFlags

    vt = tab.Pos - tab.Get(SOffsetTFlags, tab.Pos)
    return max(tab.Pos + tab.Get(VOffsetTFlags, vt + 2), vt + tab.Get(VOffsetTFlags, vt))


def _tflite_bounds(schema, buf, size: int) -> str | None:
    """Walk the model's tables; every table, vector and explicit (large-model) buffer
    offset must lie inside the file. Vector slots follow the field order of
    ``schema.fbs`` (slot = 4 + 2 * field index)."""
    model = schema.Model.GetRootAs(buf, 0)
    ends = [_table_end(model._tab)]
    ends += [_vec_end(model._tab, vt, el) for vt, el in ((6, 4), (8, 4), (10, 1), (12, 4), (14, 4), (16, 4), (18, 4))]
    nbuf, nops = model.BuffersLength(), model.OperatorCodesLength()
    for i in range(nops):
        ends.append(_table_end(model.OperatorCodes(i)._tab))
    for i in range(nbuf):
        b = model.Buffers(i)
        ends += [_table_end(b._tab), _vec_end(b._tab, 4, 1)]
        off, n = b.Offset(), b.Size()
        if off > 1 and off + n > size:
            return f"truncated: buffer {i} lies at bytes {off}..{off + n}, the file has {size}"
    for s in range(model.SubgraphsLength()):
        g = model.Subgraphs(s)
        ends.append(_table_end(g._tab))
        ends += [_vec_end(g._tab, vt, el) for vt, el in ((4, 4), (6, 4), (8, 4), (10, 4), (12, 1))]
        for i in range(g.TensorsLength()):
            tn = g.Tensors(i)
            ends.append(_table_end(tn._tab))
            ends += [_vec_end(tn._tab, vt, el) for vt, el in ((4, 4), (10, 1), (18, 4))]
            if tn.Buffer() >= max(nbuf, 1):
                return f"corrupt: tensor {i} of subgraph {s} names buffer {tn.Buffer()} of {nbuf}"
        for i in range(g.OperatorsLength()):
            op = g.Operators(i)
            ends.append(_table_end(op._tab))
            ends += [_vec_end(op._tab, vt, el) for vt, el in ((6, 4), (8, 4), (14, 1), (18, 1), (20, 4))]
            if op.OpcodeIndex() >= nops:
                return f"corrupt: operator {i} of subgraph {s} names opcode {op.OpcodeIndex()} of {nops}"
            off, n = op.LargeCustomOptionsOffset(), op.LargeCustomOptionsSize()
            if off > 1 and off + n > size:
                return f"truncated: custom options of operator {i} lie at bytes {off}..{off + n}"
    end = max(ends)
    if end > size:
        return f"truncated: the flatbuffer needs {end} bytes, the file has {size}"
    return None


def _proto_fields(data: bytes) -> set[int] | None:
    """Top-level field numbers of a protobuf message, None unless it parses to the end."""
    fields, i, n = set(), 0, len(data)

    def varint() -> int:
        nonlocal i
        v = shift = 0
        while True:
            if i >= n or shift > 63:
                raise ValueError
            b = data[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v

    try:
        while i < n:
            key = varint()
            wire = key & 7
            if wire == 0:
                varint()
            elif wire == 1:
                i += 8
            elif wire == 2:
                length = varint()  # read before adding: `i += varint()` would add to the old i
                i += length
            elif wire == 5:
                i += 4
            else:
                return None
            if i > n:
                return None
            fields.add(key >> 3)
    except ValueError:
        return None
    return fields


def _check_spm(p: Path) -> str | None:
    # The message must parse exactly to the end of the file and hold pieces (1). The
    # trainer also writes trainer_spec (2) and normalizer_spec (3) after the pieces, but
    # a converted model may lack them, so only their absence plus a short file is fatal.
    data = p.read_bytes()
    fields = _proto_fields(data)
    if fields is None:
        return "not a SentencePiece model (corrupt or truncated protobuf)"
    if 1 not in fields:
        return "not a SentencePiece model (no pieces)"
    if not {2, 3} <= fields and len(data) < 4096:
        return "truncated SentencePiece model (pieces end early, no trainer or normalizer spec)"
    try:
        import sentencepiece
    except ImportError:
        return None
    sp = sentencepiece.SentencePieceProcessor()
    try:
        sp.Load(str(p))
    except Exception as e:  # OSError / RuntimeError with a protobuf parse message
        return f"not a SentencePiece model ({str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__})"
    if sp.GetPieceSize() <= 0:
        return "not a SentencePiece model (no pieces)"
    return None


def expected_sha256(path: str | os.PathLike) -> str | None:
    """The sha256 a file must have, when its origin records one: an HF cache blob (its
    name) or a ``--local-dir`` download (the etag huggingface_hub wrote beside it)."""
    p = Path(path)
    real = Path(os.path.realpath(p))
    if real.parent.name == "blobs" and _SHA256.fullmatch(real.name):
        return real.name
    # hf_hub_download(local_dir=D) keeps D/.cache/huggingface/download/<rel>.metadata:
    # commit, etag, timestamp. The etag is only valid if the file was not touched since.
    parts = p.absolute().parts
    for k in range(len(parts) - 1, 0, -1):
        meta = Path(*parts[:k], ".cache", "huggingface", "download", *parts[k:-1], parts[-1] + ".metadata")
        if meta.is_file():
            try:
                lines = meta.read_text().splitlines()
                etag, stamp = lines[1].strip().strip('"'), float(lines[2])
            except (OSError, IndexError, ValueError):
                return None
            if _SHA256.fullmatch(etag) and p.stat().st_mtime - 1 <= stamp:
                return etag
            return None
    return None


def _check_sha256(p: Path) -> str | None:
    want = expected_sha256(p)
    if want is None:
        return None
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    got = h.hexdigest()
    if got != want:
        return f"sha256 mismatch: expected {want[:16]}..., got {got[:16]}... (damaged; download it again)"
    return None


def size_problem(path: Path, size: str) -> str | None:
    """A positive mismatch only: the file's temporal width says it is the other size.
    (Files without the embedding key, e.g. test stand-ins, are not judged.)"""
    from mrtd.model.mrt2.config import _K_EMB, CONFIGS

    st = path.stat().st_size
    header, _, _ = _safetensors_header(path, st)
    if header is None or not isinstance(header.get(_K_EMB), dict):
        return None
    shape = header[_K_EMB].get("shape") or []
    if len(shape) != 2 or shape[1] == CONFIGS[size].temporal_dim:
        return None
    other = [n for n, c in CONFIGS.items() if c.temporal_dim == shape[1]]
    what = f"it is {other[0]}" if other else f"its temporal width is {shape[1]}"
    return f"not {size}: {what}"
