"""What a worker does with one point: simulate it and return its metrics, or the error it raised.

Workers are long-lived processes (a local pool or Dask workers), so module imports and numba
kernels (compiled with cache=True, loaded from the on-disk cache) happen once per worker, not
once per point. `evaluate(task)` never raises: a failing point becomes an error result.
"""
from __future__ import annotations

import importlib
import time
import traceback

DEFAULT_EVALUATOR = "hwsim.sweep.evaluate:simulate_metrics"


def _inputs(task: dict):
    """The machine, model, precision and MoE routing of a resolved task."""
    from hwsim.machine import machine_from_dict
    from hwsim.workload.model import ModelSpec
    from hwsim.workload.precision import Precision
    from hwsim.workload.routing import RoutingSpec

    options = task["options"]
    precision = Precision(**options["precision"]) if options.get("precision") else None
    routing = RoutingSpec.model_validate(options["routing"]) if options.get("routing") else None
    return machine_from_dict(task["machine"]), ModelSpec.model_validate(task["model"]), precision, routing


def simulate_task(task: dict):
    """The hwsim Report of a resolved task."""
    from hwsim.step import simulate

    machine, model, precision, routing = _inputs(task)
    options = task["options"]
    return simulate(machine, model, phase=options["phase"], batch=options["batch"], context=options["context"],
                    precision=precision, routing=routing, seed=options["seed"])


def simulate_metrics(task: dict) -> dict:
    """Every scalar Report metric of a resolved task, plus the time per operator kind, and with a
    serving block its serving metrics."""
    from hwsim.sweep.spec import METRICS

    summary = simulate_task(task).to_dict()
    metrics = {name: summary[name] for name in METRICS}
    if "serving" in task:
        metrics.update(serving_metrics(task))
    return metrics


def serving_metrics(task: dict) -> dict:
    """SERVING_METRICS of the task's request stream served on its machine and model."""
    from hwsim.serving.cost import CostModel
    from hwsim.serving.serve import serve
    from hwsim.serving.spec import loaded
    from hwsim.sweep.spec import SERVING_METRICS

    arguments = loaded(task["serving"])
    cost = CostModel(*_inputs(task), task["options"]["seed"], bucket=arguments["bucket"])
    summary = serve(cost=cost, **arguments).summary()
    metrics = {}
    for name, (_, path) in SERVING_METRICS.items():
        value = summary
        for key in path:
            value = value[key]
        metrics[name] = value
    return metrics


def _resolve(name: str):
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def evaluate(task: dict) -> dict:
    """{'status': 'ok', 'metrics': {...}} or {'status': 'error', 'error': 'Type: message'}, plus seconds."""
    start = time.perf_counter()
    try:
        metrics = _resolve(task.get("evaluator", DEFAULT_EVALUATOR))(task)
        result = {"status": "ok", "metrics": metrics}
    except Exception as exc:  # a failing point is a result, not the end of the sweep
        where = traceback.extract_tb(exc.__traceback__)[-1]
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                  "where": f"{where.filename}:{where.lineno}"}
    result["seconds"] = time.perf_counter() - start
    return result
