"""The audio side: the JACK host (a callback that only copies), the output queue it
reads, lock-free rings for its side channels, the recorder/meter tap, and a private
jackd. Nothing here imports torch."""
