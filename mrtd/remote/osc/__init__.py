"""OSC: a strict, bounded packet codec and the UDP+TCP server (replies, subscriptions,
feedback, meters)."""
