"""The models: Magenta RealTime 2 (``mrt2/``) in PyTorch, and MusicCoCa (text and audio
style embeddings) through the official ``.tflite`` files."""
