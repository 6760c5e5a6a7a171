"""Development tools, not shipped in the runtime wheel: the simulated CSM, FSM and ITSM systems
(``simulate``), the scripted quickstart story (``demo``) and a local Apache Kafka broker run from
Maven Central jars (``kafka``).

A development install (``make setup``: an editable install of the repository) has them, and the
``bridge`` CLI adds their commands (``bridge simulate``, ``bridge demo``, ``bridge kafka``); a
production install (``pip install .``, the image) carries only ``bridge``, ``connectors`` and
``topics``. Imports flow one way: this package uses the bridge, the bridge never imports it
(``bridge run --local-kafka`` reaches for the local broker only when asked).
"""
