"""Axis values, zipped and random axes, constraints, and content keys of resolved points."""
from hwsim.sweep import points as sweep_points
from hwsim.sweep.points import expand, files_fingerprint, grid_values, inputs_key, parameter_sets, point_key
from hwsim.sweep.spec import Axis, sweep_from_dict

WORKLOAD = [{"model": "gpt2-small", "phase": "decode", "context": 128}]


def sweep(axes, **extra):
    return sweep_from_dict({"name": "t", "machine": "nvidia_t4", "workloads": WORKLOAD, "axes": axes, **extra})


def axis(**generator):
    return Axis(path="workload.batch", **generator)


def test_ranges_include_their_stop_without_float_noise():
    assert grid_values(axis(range={"start": 0.1, "stop": 0.5, "step": 0.1})) == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert grid_values(axis(range={"start": 1, "stop": 10, "step": 4})) == [1, 5, 9]


def test_log_ranges_by_count_or_factor_and_integer_rounding():
    assert grid_values(axis(logrange={"start": 1, "stop": 1000, "num": 4})) == [1, 10, 100, 1000]
    assert grid_values(axis(logrange={"start": 1, "stop": 100, "factor": 2})) == [1, 2, 4, 8, 16, 32, 64]
    # 1, 1.41, 2, 2.83, 4 rounded: duplicates are dropped, order kept
    assert grid_values(axis(logrange={"start": 1, "stop": 4, "num": 5}, integer=True)) == [1, 2, 3, 4]


def test_grid_is_a_cross_product_and_zipped_axes_advance_together():
    s = sweep({"batch": {"path": "workload.batch", "values": [1, 2], "zip": "z"},
               "context": {"path": "workload.context", "values": [64, 32], "zip": "z"},
               "bw": {"path": "machine.components.gpu.memory.bandwidth", "values": [1, 2, 3], "unit": "TB/s"}})
    sets = parameter_sets(s)
    assert len(sets) == 6
    assert sets[:3] == [{"batch": 1, "context": 64, "bw": 1}, {"batch": 1, "context": 64, "bw": 2},
                        {"batch": 1, "context": 64, "bw": 3}]
    assert {(p["batch"], p["context"]) for p in sets} == {(1, 64), (2, 32)}


def test_random_axes_are_seeded_and_within_bounds():
    axes = {"bw": {"path": "machine.components.gpu.memory.bandwidth", "loguniform": [0.1, 10], "unit": "TB/s"},
            "batch": {"path": "workload.batch", "choice": [1, 8, 64]}}
    first = parameter_sets(sweep(axes, random={"samples": 50, "seed": 3}))
    again = parameter_sets(sweep(axes, random={"samples": 50, "seed": 3}))
    other = parameter_sets(sweep(axes, random={"samples": 50, "seed": 4}))
    assert first == again != other
    assert len(first) == 50
    assert all(0.1 <= p["bw"] <= 10 and p["batch"] in (1, 8, 64) for p in first)


def test_constraints_remove_points_and_values_land_with_their_unit():
    s = sweep({"batch": {"path": "workload.batch", "values": [1, 2, 4]},
               "bw": {"path": "machine.components.gpu.memory.bandwidth", "values": [0.5, 1], "unit": "TB/s"}},
              constraints=["batch * bw <= 1"])
    points, removed = expand(s)
    assert removed == 3
    assert [p.params for p in points] == [{"batch": 1, "bw": 0.5}, {"batch": 1, "bw": 1}, {"batch": 2, "bw": 0.5}]
    assert points[1].task["machine"]["components"]["gpu"]["memory"]["bandwidth"] == "1TB/s"
    assert points[2].task["options"]["batch"] == 2
    assert points[0].workload == "gpt2-small decode c128"


def test_key_is_the_content_of_the_inputs_not_the_axis_names():
    by_batch = expand(sweep({"b": {"path": "workload.batch", "values": [1, 2]}}))[0]
    renamed = expand(sweep({"size": {"path": "workload.batch", "values": [2, 1]}}))[0]
    assert {p.key for p in by_batch} == {p.key for p in renamed}
    assert by_batch[0].key != by_batch[1].key
    task = by_batch[0].task
    changed = {**task, "options": {**task["options"], "seed": 1}}
    assert inputs_key(task) == by_batch[0].inputs != inputs_key(changed)
    assert point_key(inputs_key(task)) == by_batch[0].key != point_key(inputs_key(changed))


def test_key_holds_the_code_fingerprint_and_inputs_do_not(monkeypatch):
    before = expand(sweep({"b": {"path": "workload.batch", "values": [1, 2]}}))[0]
    monkeypatch.setattr(sweep_points, "code_fingerprint", lambda: "another build")
    after = expand(sweep({"b": {"path": "workload.batch", "values": [1, 2]}}))[0]
    assert [p.inputs for p in before] == [p.inputs for p in after]
    assert not {p.key for p in before} & {p.key for p in after}


def test_files_fingerprint_follows_names_and_contents_not_order(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.yaml").write_text("y: 2\n")
    files = sorted(tmp_path.iterdir())
    first = files_fingerprint(tmp_path, files)
    assert files_fingerprint(tmp_path, files[::-1]) == first and len(first) == 16
    (tmp_path / "b.yaml").write_text("y: 3\n")
    assert files_fingerprint(tmp_path, files) != first
    (tmp_path / "b.yaml").write_text("y: 2\n")
    (tmp_path / "b.yaml").rename(tmp_path / "c.yaml")
    assert files_fingerprint(tmp_path, [tmp_path / "a.py", tmp_path / "c.yaml"]) != first


def test_model_shape_axes_reach_the_model():
    points, _ = expand(sweep({"layers": {"path": "model.layers", "values": [6, 12]}}))
    assert [p.task["model"]["layers"] for p in points] == [6, 12]
