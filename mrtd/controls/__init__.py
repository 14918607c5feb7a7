"""What a musician steers, as state: the controls of one stream (schema defaults, checked
changes, one frame's model inputs), held notes, prompt slots and their style, event
files (frame-stamped controls, for replay) and state banks."""
