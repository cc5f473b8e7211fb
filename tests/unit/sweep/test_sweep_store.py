"""The JSON-lines store keeps every complete record and drops a line cut short by a crash."""
import json

from hwsim.sweep.store import ResultStore


def test_records_survive_reopening(tmp_path):
    path = tmp_path / "points.jsonl"
    with ResultStore(path) as store:
        store.add({"key": "a", "status": "ok", "metrics": {"x": 1}})
        store.add({"key": "b", "status": "error", "error": "E: no"})
    reopened = ResultStore(path)
    assert set(reopened.records) == {"a", "b"} and "a" in reopened
    assert reopened.get("b")["error"] == "E: no"
    reopened.close()


def test_a_half_written_last_line_is_cut_off(tmp_path):
    path = tmp_path / "points.jsonl"
    path.write_text(json.dumps({"key": "a", "status": "ok"}) + "\n" + '{"key": "b", "sta')
    with ResultStore(path) as store:
        assert set(store.records) == {"a"}
        store.add({"key": "c", "status": "ok"})
    lines = path.read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "c"]
