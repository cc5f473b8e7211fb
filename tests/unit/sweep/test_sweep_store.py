"""The JSON-lines store keeps every complete record and drops, and names, every line that holds none."""
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


def test_a_half_written_last_line_is_dropped_and_named(tmp_path):
    path = tmp_path / "points.jsonl"
    path.write_text(json.dumps({"key": "a", "status": "ok"}) + "\n" + '{"key": "b", "sta')
    with ResultStore(path) as store:
        assert set(store.records) == {"a"} and store.corrupt == [2]
        store.add({"key": "c", "status": "ok"})
    lines = path.read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "c"]


def test_corrupt_lines_inside_the_file_are_dropped_once(tmp_path):
    path = tmp_path / "points.jsonl"
    good = [json.dumps({"key": k, "status": "ok"}) for k in "abc"]
    path.write_bytes("\n".join([good[0], "garbage", good[1], '{"key": 3, "status": "ok"}', "",
                                 '["a list"]', good[2]]).encode() + b"\n\xff\xfe\n")
    with ResultStore(path) as store:
        assert set(store.records) == {"a", "b", "c"} and store.corrupt == [2, 4, 6, 8]
    with ResultStore(path) as store:          # the file was rewritten without them
        assert set(store.records) == {"a", "b", "c"} and store.corrupt == []


def test_a_complete_last_record_without_its_newline_is_kept(tmp_path):
    path = tmp_path / "points.jsonl"
    path.write_text(json.dumps({"key": "a", "status": "ok"}))
    with ResultStore(path) as store:
        assert set(store.records) == {"a"} and not store.corrupt
        store.add({"key": "b", "status": "error", "error": "E: no"})
    assert [json.loads(line)["key"] for line in path.read_text().splitlines()] == ["a", "b"]
