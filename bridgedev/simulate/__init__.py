"""Simulated CSM, FSM and ITSM systems that speak the contract (``shared/contracts``).

- ``SimWorld(seed)``: the records the three systems hold, with deterministic ids and time;
- ``populate(world, size)`` / ``population_messages``: a realistic population as insert events;
- ``Workload(world, mix).messages(count)``: a deterministic stream of changes, duplicates and
  malformed events; ``simulation_stream`` chains both;
- ``Responders(world)``: the systems' answers to the bridge's commands, with a ``CommandRecorder``;
- ``Simulator`` / ``run_simulation``: all of it on a real Kafka broker.
"""

from bridgedev.simulate.messages import SimMessage, message_of
from bridgedev.simulate.population import SIZES, PopulationSize, populate, summary
from bridgedev.simulate.recording import CommandRecorder, ReceivedCommand
from bridgedev.simulate.responders import BRIDGE_USER, Responders
from bridgedev.simulate.runner import RunOptions, RunSummary, Simulator, run_simulation
from bridgedev.simulate.workload import MIXES, Mix, Workload, population_messages, simulation_stream
from bridgedev.simulate.world import SimWorld

__all__ = [
    "BRIDGE_USER",
    "MIXES",
    "SIZES",
    "CommandRecorder",
    "Mix",
    "PopulationSize",
    "ReceivedCommand",
    "Responders",
    "RunOptions",
    "RunSummary",
    "SimMessage",
    "SimWorld",
    "Simulator",
    "Workload",
    "message_of",
    "populate",
    "population_messages",
    "run_simulation",
    "simulation_stream",
    "summary",
]
