"""Events coming in: the events API, `emit`/`import`, group commit, replaying files in `simulate`.

May use: triggers (the decisions), storage, runtime, texts. Vendor sources will live here.
"""
