"""The live side of mrtd: engine, JACK client, OSC server, MIDI input, effects, CLI glue."""
