"""OSC over UDP and TCP, one module per job: ``packet`` (the strict, bounded codec),
``server`` (the endpoint: dispatch, time tags, the replies it answers itself),
``connections`` (UDP peers, TCP framing, fairness, timeouts and eviction),
``subscriptions`` (the subscriber table and its rules) and ``feedback`` (state changes
from any thread, coalesced, and the meters)."""
