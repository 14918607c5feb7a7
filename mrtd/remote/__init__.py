"""Remote control beside the pipeline: the hub every control goes through, MIDI, OSC over
UDP and TCP, OSCQuery over HTTP and WebSocket, and the asyncio loop they share."""
