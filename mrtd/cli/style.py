"""``mrtd style``: text and audio prompts → the 12 MusicCoCa tokens, from the shell.

The same blend the daemon computes for its prompt slots (weighted mean of embeddings,
quantised once), so a patch can precompute tokens, or a user can check their files.
"""

from __future__ import annotations

import argparse
import json

from mrtd.errors import UserError


def add_style(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "style", help="encode text/audio style prompts into the 12 MusicCoCa tokens",
        description="Encode one or more prompts with MusicCoCa (the official TFLite files) and print "
        "the 12 style tokens of their weighted blend, the tokens /mrtd/prompt/N/tokens takes. "
        "Several prompts are blended in embedding space, weights normalised to sum 1.")
    p.add_argument("text", nargs="*", help="text prompts, e.g. \"disco funk\"")
    p.add_argument("--audio", action="append", default=[], metavar="FILE",
                   help="an audio file as a prompt (any format libsndfile reads; repeatable)")
    p.add_argument("--weight", type=float, nargs="+", metavar="W",
                   help="one weight per prompt, texts first then audio files (default: all 1)")
    p.add_argument("--weights", metavar="DIR", help="where the official files are (default: searched; "
                   "see 'mrtd weights list')")
    p.add_argument("--no-mapper", action="store_true",
                   help="text embeddings without the text→audio mapper (the official Python default; "
                   "the apps and the daemon map)")
    p.add_argument("--json", action="store_true", help="print a JSON object (tokens, embedding norm, prompts)")
    p.set_defaults(run=run_style)


def run_style(args: argparse.Namespace) -> int:
    import numpy as np

    from mrtd.controls.style import blend, resolve_audio_path
    from mrtd.model.musiccoca import MusicCoCa
    from mrtd.weights.find import find_musiccoca

    prompts = [("text", t) for t in args.text] + [("audio", resolve_audio_path(a)) for a in args.audio]
    if not prompts:
        raise UserError("give at least one text prompt or --audio FILE")
    weights = args.weight if args.weight is not None else [1.0] * len(prompts)
    if len(weights) != len(prompts):
        raise UserError(f"--weight takes one value per prompt ({len(prompts)}), got {len(weights)}")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise UserError("weights must be ≥ 0 with at least one > 0")
    where = find_musiccoca(args.weights)
    if where is None:
        raise UserError("MusicCoCa files not found (looked where 'mrtd weights list' shows); "
                        "get them with 'mrtd weights download' or pass --weights DIR")
    m = MusicCoCa(where)
    embs = [m.embed_text(v, mapper=not args.no_mapper) if k == "text" else m.embed_audio_file(v)
            for k, v in prompts]
    tokens = [int(t) for t in m.tokenize(blend(embs, weights))]
    if args.json:
        print(json.dumps({"tokens": tokens, "musiccoca": str(where), "mapper": not args.no_mapper,
                          "prompts": [{"kind": k, "value": v, "weight": w} for (k, v), w in zip(prompts, weights)],
                          "embedding_norm": float(np.linalg.norm(blend(embs, weights)))}))
    else:
        print(" ".join(str(t) for t in tokens))
    return 0
