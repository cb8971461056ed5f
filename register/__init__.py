"""The risk register: storage, recording, scoring and queries over the gate's verdicts.

`register` imports the gate's models; `gate` imports `register` only in `gate.recording_sink`.
"""
