"""``mrtd verify --family v1``: the PyTorch Magenta RT v1 model on an oracle reference's
inputs, compared array by array.

A reference is an ``.npz`` laid out like ``shared/oracle-v1`` (the official JAX code's
outputs): per case ``<case>/encoder_input_tokens`` and whatever of ``encoder_outputs``,
``tf_*`` (teacher forcing on the shared ``decoder_input_tokens``), ``greedy_tf_cfg_*``
(teacher forcing on the greedy output), ``greedy_tokens``, ``sampled_tokens`` (+
``sampled_rng_key``) and ``*_rvq`` it holds; optionally ``rollout/*`` (chained chunks).
Any dims, seeds or number of cases: an array the reference lacks is reported under
``not_checked``, never as a failure.

Verdicts (float32 model against a float32 reference): encoder ≤ 1e-5; logits ≤ 1e-4 (the
full vocabulary where stored, else through top-5 values at the reference's ids,
logsumexp and the target logit, per row and guided); greedy and seeded sampled tokens
identical on every position. Otherwise (bfloat16 on either side) the figures are
reported without a verdict and the tokens must agree up to the first *low-margin*
position: where the reference's decision is closer than the error this run measured can
flip (see :func:`margin_threshold`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mrtd.errors import UserError

TOL_ENCODER = 1e-5
TOL_LOGITS = 1e-4
MIN_MARGIN = 1e-3  # the floor of the low-margin threshold (bfloat16)
# the oracle's settings (MagentaRTT5X defaults); a config.json's "sampling"/"greedy" win
DEFAULTS = {"guidance": 5.0, "temperature": 1.1, "top_k": 40}
ARRAYS = ("encoder_outputs", "tf_logits_first32", "tf_top5_ids", "tf_logsumexp", "tf_target_logit",
          "tf_cfg_top5_ids", "tf_cfg_logsumexp", "tf_cfg_target_logit", "greedy_tf_cfg_logits_first32",
          "greedy_tf_cfg_top5_ids", "greedy_tokens", "greedy_rvq", "sampled_tokens", "sampled_rvq")


def is_v1_reference(ref: dict[str, np.ndarray]) -> bool:
    return any(k.endswith("/encoder_input_tokens") for k in ref)


def cases_of(ref: dict[str, np.ndarray]) -> list[str]:
    """Cases in file order: every ``<case>/encoder_input_tokens`` of shape [2, L]."""
    return [k.split("/")[0] for k in ref if k.endswith("/encoder_input_tokens") and ref[k].ndim == 2]


def settings(config: str | None) -> dict[str, float]:
    """Guidance, temperature and top-k the reference was sampled with: the oracle's
    defaults, or what an oracle ``config.json`` records."""
    out = dict(DEFAULTS)
    if config:
        try:
            s = json.loads(Path(config).read_text()).get("sampling") or {}
        except (OSError, ValueError, AttributeError):
            s = {}
        for ours, theirs in (("guidance", "guidance_weight"), ("temperature", "temperature"), ("top_k", "topk")):
            if theirs in s:
                out[ours] = type(DEFAULTS[ours])(s[theirs])
    return out


def guided_np(logits: np.ndarray, w: float) -> np.ndarray:
    """[2, ..., V] -> the CFG logits ``(1+w)*l0 - w*l1`` in float32 (as the official)."""
    if w == 0.0:
        return logits[0]
    w32 = np.float32(w)
    return (np.float32(1) + w32) * logits[0] - w32 * logits[1]


def margin_threshold(err: float | None, strict: bool) -> float:
    """The gap below which a decision counts as low-margin: twice ``err``, the 99th
    percentile of this run's error on the reference's five best guided logits (measured by
    teacher forcing on the reference's greedy output), so two candidates closer than that
    may swap order. float32 parity needs no threshold; without the figures the floor
    :data:`MIN_MARGIN` is used."""
    if strict:
        return 0.0
    return max(2.0 * (err or 0.0), MIN_MARGIN)


def _stats(ours: np.ndarray, ref: dict, prefix: str, targets: np.ndarray, n: int) -> dict[str, Any]:
    """Compact statistics of ``ours`` [..., P, V] against ``{prefix}top5_*``, ``logsumexp``,
    ``target_logit``, ``argmax``, positions ``:n``; the keys present only."""
    out: dict[str, Any] = {}
    if f"{prefix}top5_ids" in ref:
        ids = ref[f"{prefix}top5_ids"][..., :n, :].astype(np.int64)
        at = np.take_along_axis(ours[..., :n, :], ids, -1)
        err = np.abs(at - ref[f"{prefix}top5_vals"][..., :n, :])
        out["top5_vals_max_abs"] = float(err.max())
        out["top5_vals_p99_abs"] = float(np.quantile(err, 0.99))
        mine = torch.topk(torch.from_numpy(np.ascontiguousarray(ours[..., :n, :])), 5, dim=-1).indices.numpy()
        out["top5_ids_equal_fraction"] = float((mine == ids).all(-1).mean())
    if f"{prefix}logsumexp" in ref:
        lse = torch.logsumexp(torch.from_numpy(np.ascontiguousarray(ours[..., :n, :])), dim=-1).numpy()
        out["logsumexp_max_abs"] = float(np.abs(lse - ref[f"{prefix}logsumexp"][..., :n]).max())
    if f"{prefix}target_logit" in ref:
        t = np.take_along_axis(ours[..., :n, :], np.broadcast_to(targets[:n, None], ours[..., :n, :1].shape), -1)[..., 0]
        out["target_logit_max_abs"] = float(np.abs(t - ref[f"{prefix}target_logit"][..., :n]).max())
    if f"{prefix}argmax" in ref:
        out["argmax_equal_fraction"] = float((ours[..., :n, :].argmax(-1) == ref[f"{prefix}argmax"][..., :n]).mean())
    return out


def _verdict(figures: dict[str, Any], tol: float, strict: bool) -> bool | None:
    errs = [v for k, v in figures.items() if k.endswith("_max_abs")]
    if not strict or not errs:
        return None
    return bool(max(errs) <= tol)


def _first_eos(tokens: np.ndarray) -> int:
    """Positions that count in a row: up to and including the first EOS (id 1)."""
    hits = np.flatnonzero(tokens == 1)
    return int(hits[0]) + 1 if hits.size else int(tokens.shape[-1])


class CaseRunner:
    """One model, one reference: the checks of one case, each reporting its figures,
    ``checked`` and ``pass`` (None: figures only)."""

    def __init__(self, model, ref: dict[str, np.ndarray], device: torch.device, strict: bool,
                 cfg: dict[str, float]):
        self.model, self.ref, self.device, self.strict, self.s = model, ref, device, strict, cfg
        self.not_checked: list[str] = []
        self.logit_err: float | None = None
        self.guided_err: float | None = None  # of the case being checked

    def _has(self, case: str, *names: str) -> bool:
        keys = [f"{case}/{n}" if not n.startswith("/") else n[1:] for n in names]
        missing = [k for k in keys if k not in self.ref]
        self.not_checked += [k for k in missing if k not in self.not_checked]
        return not missing

    def _t(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a).astype(np.int64)).to(self.device)

    @torch.inference_mode()
    def logits(self, enc: np.ndarray, dec_in: np.ndarray) -> np.ndarray:
        """Teacher-forced [2, P, V] float32 on the host (both rows share ``dec_in``)."""
        dec = np.broadcast_to(dec_in, (enc.shape[0], dec_in.shape[-1]))
        return self.model.logits(self._t(enc), self._t(dec)).float().cpu().numpy()

    def _note_err(self, figures: dict[str, Any], keys=("first32_max_abs", "top5_vals_max_abs")) -> None:
        errs = [figures[k] for k in keys if k in figures]
        if errs:
            self.logit_err = max(self.logit_err or 0.0, *errs)

    @torch.inference_mode()
    def encoder(self, case: str) -> dict[str, Any]:
        if not self._has(case, "encoder_outputs"):
            return {"checked": False, "reason": f"no {case}/encoder_outputs in the reference"}
        enc = self.ref[f"{case}/encoder_input_tokens"]
        out = self.model.encode(self._t(enc)).float().cpu().numpy()
        err = float(np.abs(out - self.ref[f"{case}/encoder_outputs"]).max())
        return {"checked": True, "max_abs": err, "tolerance": TOL_ENCODER,
                "pass": bool(err <= TOL_ENCODER) if self.strict else None}

    def teacher_forced(self, case: str) -> dict[str, Any]:
        """Logits on the reference's decoder inputs: per row and guided."""
        wanted = ("tf_logits_first32", "tf_top5_ids", "tf_logsumexp", "tf_target_logit", "tf_argmax",
                  "tf_cfg_top5_ids", "tf_cfg_logsumexp", "tf_cfg_target_logit", "tf_cfg_argmax")
        present = [n for n in wanted if f"{case}/{n}" in self.ref]
        self._has(case, *[n for n in wanted if n not in present and not n.endswith("argmax")])
        if not present or not self._has(case, "/decoder_input_tokens", "/decoder_target_tokens"):
            return {"checked": False, "reason": "no teacher-forcing arrays for this case"}
        enc = self.ref[f"{case}/encoder_input_tokens"]
        tgt = self.ref["decoder_target_tokens"].astype(np.int64)
        n = int(tgt.shape[-1])
        t0 = time.perf_counter()
        ours = self.logits(enc, self.ref["decoder_input_tokens"])
        fig: dict[str, Any] = {"positions": n}
        if f"{case}/tf_logits_first32" in self.ref:
            r = self.ref[f"{case}/tf_logits_first32"]
            fig["first32_max_abs"] = float(np.abs(ours[:, : r.shape[1]] - r).max())
        fig.update(_stats(ours, self.ref, f"{case}/tf_", tgt, n))
        self._note_err(fig)
        cfg = _stats(guided_np(ours, self.s["guidance"]), self.ref, f"{case}/tf_cfg_", tgt, n)
        fig.update({f"cfg_{k}": v for k, v in cfg.items()})
        fig["seconds"] = round(time.perf_counter() - t0, 3)
        return {"checked": True, **fig, "tolerance": TOL_LOGITS, "pass": _verdict(fig, TOL_LOGITS, self.strict)}

    def greedy_forced(self, case: str) -> tuple[dict[str, Any], np.ndarray | None]:
        """Guided logits teacher-forced on the reference's own greedy output: the per-step
        decode logits up to fp error. Also gives the reference's top1-top2 margins."""
        wanted = ("greedy_tf_cfg_logits_first32", "greedy_tf_cfg_top5_ids", "greedy_tf_cfg_logsumexp",
                  "greedy_tf_cfg_target_logit")
        present = [n for n in wanted if f"{case}/{n}" in self.ref]
        self._has(case, *[n for n in wanted if n not in present])
        margins = None
        if f"{case}/greedy_tf_cfg_top5_vals" in self.ref:
            v = self.ref[f"{case}/greedy_tf_cfg_top5_vals"]
            margins = (v[:, 0] - v[:, 1]).astype(np.float64)
        if not present or not self._has(case, "greedy_tokens"):
            return {"checked": False, "reason": "no greedy teacher-forcing arrays for this case"}, margins
        toks = self.ref[f"{case}/greedy_tokens"][0].astype(np.int64)
        n = _first_eos(toks)
        dec_in = np.concatenate([[0], toks[:-1]])
        t0 = time.perf_counter()
        ours = guided_np(self.logits(self.ref[f"{case}/encoder_input_tokens"], dec_in), self.s["guidance"])
        fig: dict[str, Any] = {"positions": n}
        if f"{case}/greedy_tf_cfg_logits_first32" in self.ref:
            r = self.ref[f"{case}/greedy_tf_cfg_logits_first32"]
            fig["first32_max_abs"] = float(np.abs(ours[: min(r.shape[0], n)] - r[:n]).max())
        fig.update(_stats(ours, self.ref, f"{case}/greedy_tf_cfg_", toks, n))
        if margins is not None:
            margins = margins[:n]
            fig["min_reference_margin"] = float(margins.min())
        self.guided_err = fig.get("top5_vals_p99_abs")
        fig["seconds"] = round(time.perf_counter() - t0, 3)
        # guided figures: the per-row error bound is (1 + 2w) times smaller
        tol = TOL_LOGITS * (1.0 + 2.0 * abs(self.s["guidance"]))
        return {"checked": True, **fig, "tolerance": tol, "pass": _verdict(fig, tol, self.strict)}, margins

    def _compare(self, ours: np.ndarray, want: np.ndarray, margins: np.ndarray | None) -> dict[str, Any]:
        """Token agreement; identical everywhere (float32), else up to the first position
        whose margin is below the threshold."""
        n = want.shape[-1]
        diff = np.flatnonzero((ours != want).any(0))
        first = int(diff[0]) if diff.size else None
        thr = margin_threshold(self.guided_err, self.strict)
        low = None
        if margins is not None and not self.strict:
            lows = np.flatnonzero(margins < thr)
            low = int(lows[0]) if lows.size else None
        upto = n if self.strict or low is None else low
        out = {"checked": True, "positions": n, "match": int(n - len(diff)), "identical": first is None,
               "first_mismatch": first}
        if not self.strict:
            out.update(margin_threshold=thr, first_low_margin=low, compared_up_to=upto)
        out["pass"] = bool(first is None or (not self.strict and first >= upto))
        return out

    def _rvq(self, case: str, name: str, tokens: np.ndarray) -> bool | None:
        if f"{case}/{name}" not in self.ref:
            self._has(case, name)
            return None
        try:
            from mrtd.model.v1.system import llm_to_rvq
        except ImportError:
            return None
        return bool(np.array_equal(llm_to_rvq(tokens[0]).reshape(-1, 16), self.ref[f"{case}/{name}"]))

    def generate(self, enc: np.ndarray, key: np.ndarray | None, temperature: float) -> tuple[np.ndarray, float]:
        from mrtd.model.v1.decode import generate

        t0 = time.perf_counter()
        with torch.inference_mode():
            toks = generate(self.model, self._t(enc), max_steps=self.model.cfg.decoder_len,
                            guidance=self.s["guidance"], temperature=temperature, top_k=int(self.s["top_k"]),
                            key=key)
        return np.asarray(toks), time.perf_counter() - t0

    def greedy(self, case: str, margins: np.ndarray | None) -> dict[str, Any]:
        if not self._has(case, "greedy_tokens"):
            return {"checked": False, "reason": f"no {case}/greedy_tokens in the reference"}
        ours, secs = self.generate(self.ref[f"{case}/encoder_input_tokens"], None, 0.0)
        out = self._compare(ours, self.ref[f"{case}/greedy_tokens"], margins)
        out["rvq_equal"] = self._rvq(case, "greedy_rvq", ours)
        if out["rvq_equal"] is False and self.strict:
            out["pass"] = False
        out["seconds"] = round(secs, 3)
        return out

    def sampled_margins(self, case: str, tokens: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Per position, the gap between the two best Gumbel scores of the official draw
        (row 0's noise + the scaled, top-k-masked guided logits), with this model's
        logits teacher-forced on the reference's sampled sequence."""
        from mrtd.model.v1 import rng, sampler

        dec_in = np.concatenate([[0], tokens[0, :-1]])
        logits = self.logits(self.ref[f"{case}/encoder_input_tokens"], dec_in)
        n = _first_eos(tokens[0])
        out = np.full(tokens.shape[-1], np.inf)
        k = key
        for i in range(n):
            k1, k = rng.split(k)
            l2 = torch.from_numpy(logits[:, i])
            s = sampler.scaled_masked(sampler.guided(l2, self.s["guidance"]), self.s["temperature"],
                                      int(self.s["top_k"])).numpy()
            cand = np.flatnonzero(s > sampler.TOPK_FILL)
            score = np.sort(rng.gumbel_at(k1, cand) + s[cand])
            out[i] = float(score[-1] - score[-2]) if score.size > 1 else np.inf
        return out

    def sampled(self, case: str) -> dict[str, Any]:
        if not self._has(case, "sampled_tokens", "sampled_rng_key"):
            return {"checked": False, "reason": f"no {case}/sampled_tokens (+ sampled_rng_key) in the reference"}
        key = self.ref[f"{case}/sampled_rng_key"].astype(np.uint32)
        want = self.ref[f"{case}/sampled_tokens"]
        ours, secs = self.generate(self.ref[f"{case}/encoder_input_tokens"], key, self.s["temperature"])
        margins = None
        if not self.strict:
            # the scores are divided by T: so is the error bound
            margins = self.sampled_margins(case, want, key) * self.s["temperature"]
        out = self._compare(ours, want, margins)
        out["key"] = [int(x) for x in key]
        out["rvq_equal"] = self._rvq(case, "sampled_rvq", ours)
        if out["rvq_equal"] is False and self.strict:
            out["pass"] = False
        out["seconds"] = round(secs, 3)
        return out

    def case(self, case: str) -> dict[str, Any]:
        self.guided_err = None
        rep: dict[str, Any] = {"encoder": self.encoder(case), "logits": self.teacher_forced(case)}
        rep["greedy_logits"], margins = self.greedy_forced(case)
        rep["greedy"] = self.greedy(case, margins)
        rep["sampled"] = self.sampled(case)
        return rep

    def eos(self) -> dict[str, Any]:
        """The oracle's EOS case: ``partial``'s input with the logit of id 1 (MASK = t5x's EOS)
        tripled (``logits_dense.kernel[:, 1] *= 3``), so rows end early and zeros follow;
        greedy and sampled (``partial``'s key) tokens and codes, the weight restored after."""
        need = ("partial/encoder_input_tokens",)
        if not any(k.startswith("eos/") for k in self.ref) or need[0] not in self.ref:
            return {"checked": False, "reason": "no eos/* (or partial/encoder_input_tokens) in the reference"}
        enc = self.ref[need[0]]
        key = self.ref.get("partial/sampled_rng_key", np.array([0, 0, 0, 0], np.uint32)).astype(np.uint32)
        w = self.model.logits_dense
        row = w.data[1].clone()
        out: dict[str, Any] = {"checked": True, "note": "oracle convention: partial's input, logits_dense row 1 x 3"}
        try:
            with torch.no_grad():
                w.data[1] *= 3
            for kind, k, t in (("greedy", None, 0.0), ("sampled", key, self.s["temperature"])):
                if f"eos/{kind}_tokens" not in self.ref:
                    self._has("eos", f"{kind}_tokens")
                    out[kind] = {"checked": False, "reason": f"no eos/{kind}_tokens in the reference"}
                    continue
                ours, secs = self.generate(enc, k, t)
                want = self.ref[f"eos/{kind}_tokens"]
                rep = self._compare(ours, want, None)
                rep["first_eos"] = int(np.flatnonzero(want[0] == 1)[0]) if (want[0] == 1).any() else None
                rep["rvq_equal"] = self._rvq("eos", f"{kind}_rvq", ours)
                if not self.strict:
                    rep["pass"] = None  # no margins for this case: figures only
                elif rep["rvq_equal"] is False:
                    rep["pass"] = False
                rep["seconds"] = round(secs, 3)
                out[kind] = rep
        finally:
            with torch.no_grad():
                w.data[1] = row
        return out

    def rollout(self) -> dict[str, Any]:
        """Chained chunks: each chunk's tokens from its stored encoder input and key, and
        (with the system code) the next encoder input rebuilt from the rolled context."""
        need = ("rollout/encoder_input_tokens", "rollout/rng_key", "rollout/tokens")
        missing = [k for k in need if k not in self.ref]
        if missing:
            self.not_checked += [k for k in missing if k not in self.not_checked]
            return {"checked": False, "reason": "no rollout/* in the reference"}
        enc, keys, want = (self.ref[k] for k in need)
        chunks, t0 = [], time.perf_counter()
        for c in range(enc.shape[0]):
            ours, _ = self.generate(enc[c], keys[c].astype(np.uint32), self.s["temperature"])
            chunks.append(self._compare(ours, want[c], None) | {"key": [int(x) for x in keys[c]]})
        out: dict[str, Any] = {"checked": True, "chunks": chunks, "seconds": round(time.perf_counter() - t0, 3)}
        out["pass"] = all(c["pass"] for c in chunks) if self.strict else None
        if not self.strict:  # no margins for chained chunks: figures only
            for c in chunks:
                c["pass"] = None
        try:
            from mrtd.model.v1.system import encoder_input, llm_to_rvq
        except ImportError:
            return out
        if "rollout/context_tokens_before" in self.ref:
            ctx = self.ref["rollout/context_tokens_before"]
            style = enc[0, 0, -6:].astype(np.int64)
            codes = None if (style == 1).all() else (style - 17410 - 1024 * np.arange(6))
            rebuilt = all(np.array_equal(encoder_input(ctx[c], codes), enc[c]) for c in range(enc.shape[0]))
            rolled = all(np.array_equal(ctx[c + 1][-50:], llm_to_rvq(want[c][0]).reshape(50, 16))
                         for c in range(enc.shape[0] - 1))
            out["system"] = {"encoder_input_rebuilt": rebuilt, "context_rolled": rolled}
            if out["pass"] is not None:
                out["pass"] = out["pass"] and rebuilt and rolled
        return out


def _verdicts(node: Any) -> list[bool]:
    """Every ``pass`` that is a verdict (True/False) in a report tree."""
    if isinstance(node, dict):
        own = [node["pass"]] if isinstance(node.get("pass"), bool) else []
        return own + [v for k, x in node.items() if k != "pass" for v in _verdicts(x)]
    if isinstance(node, list):
        return [v for x in node for v in _verdicts(x)]
    return []


def run_verify_v1(args, ref: dict[str, np.ndarray], ref_path: Path, device: torch.device, dtype,
                  ref_dtype: str) -> int:
    from mrtd.model.v1.checkpoint import load_v1
    from mrtd.model.v1.config import V1Config

    if not args.checkpoint:
        raise UserError("--checkpoint is required (a Magenta RT v1 checkpoint folder or .tar)")
    if not Path(args.checkpoint).exists():
        raise UserError(f"checkpoint not found: {args.checkpoint}")
    if not is_v1_reference(ref):
        raise UserError(f"{ref_path}: not a v1 reference (no <case>/encoder_input_tokens arrays)")
    cfg = V1Config.from_json(args.manifest) if args.manifest else None
    strict = ref_dtype == "float32" and dtype == torch.float32
    cases = cases_of(ref)
    only = getattr(args, "cases", None)
    if only:
        wanted = [c.strip() for c in only.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in cases]
        if unknown:
            raise UserError(f"--cases: {', '.join(unknown)} not in the reference (it has: {', '.join(cases)})")
        cases = wanted
    t0 = time.perf_counter()
    model = load_v1(args.checkpoint, cfg, device=device, dtype=dtype).eval()
    load_s = time.perf_counter() - t0
    s = settings(args.manifest)
    run = CaseRunner(model, ref, device, strict, s)
    result: dict[str, Any] = {
        "family": "v1",
        "checkpoint": str(args.checkpoint),
        "reference": str(ref_path),
        "reference_compute_dtype": ref_dtype,
        "dtype": "bfloat16" if dtype == torch.bfloat16 else "float32",
        "device": str(device),
        "config": {k: getattr(model.cfg, k) for k in ("name", "d_model", "num_heads", "head_dim", "mlp_dim",
                                                       "encoder_layers", "temporal_layers", "depth_layers")},
        "load_seconds": round(load_s, 3),
        "settings": s,
        "strict": strict,
        "tolerances": {
            "encoder_max_abs": TOL_ENCODER if strict else None,
            "logits_max_abs": TOL_LOGITS if strict else None,
            "guided_logits_max_abs": TOL_LOGITS * (1 + 2 * abs(s["guidance"])) if strict else None,
            "tokens": "identical at every position" if strict else
                      "identical up to the first low-margin position: where the reference's gap (top1-top2 "
                      "of the guided logits, greedy; of the Gumbel scores x T, sampled) < max(2 e, 1e-3), "
                      "e = the 99th percentile of this case's error on the reference's top-5 guided logits",
        },
        "cases": {},
    }
    for c in cases:
        result["cases"][c] = run.case(c)
    result["rollout"] = run.rollout() if not only else {"checked": False, "reason": "--cases given"}
    result["eos"] = run.eos() if not only else {"checked": False, "reason": "--cases given"}
    result["logit_error_max"] = run.logit_err
    result["not_checked"] = sorted(run.not_checked)
    verdicts = _verdicts({"cases": result["cases"], "rollout": result["rollout"], "eos": result["eos"]})
    result["checks_passed"] = sum(verdicts)
    result["checks_with_verdict"] = len(verdicts)
    if not verdicts:
        raise UserError(f"{ref_path}: nothing to check (no case has generation or comparison arrays)")
    result["pass"] = bool(all(verdicts))
    print(json.dumps(result, indent=None))
    return 0 if result["pass"] else 1
