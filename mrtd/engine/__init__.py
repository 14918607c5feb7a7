"""The generation thread and its frame loop: posted controls scheduled onto frames, a
stream generator asked for each frame's audio, prefill, banks, the output queue; how
an engine is built (model, device, demo); and offline rendering through the same path."""
