"""A real single-node KRaft broker for development and tests, from Maven Central jars:
``local_broker.LocalKafka`` (the jars are fetched by ``_jars``, the process run by ``_process``)."""
