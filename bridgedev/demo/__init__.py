"""``bridge demo``: a local Kafka, the bridge and simulated CSM/FSM/ITSM on a scripted story.

``run_demo(options, narrator)`` starts everything (``stage``), plays the story (``story``) and
tells it (``narrate``); the result is a ``DemoSummary`` (also printed as JSON with ``--json``).
"""

from bridgedev.demo.runner import DemoOptions, run_demo
from bridgedev.demo.story import DemoSummary

__all__ = ["DemoOptions", "DemoSummary", "run_demo"]
