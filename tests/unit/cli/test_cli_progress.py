"""A long run shows a progress bar of the operators done, on a terminal's stderr only."""
import io
import sys

import pytest

import hwsim.step as step


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def no_delay(monkeypatch):
    """Show the bar from the start (it waits PROGRESS_DELAY_S of wall time otherwise) and record how
    far each bar got."""
    reached = []

    class Recorded(step.tqdm):
        def close(self):
            reached.append((self.n, self.total))
            super().close()
    monkeypatch.setattr(step, "PROGRESS_DELAY_S", 0)
    monkeypatch.setattr(step, "tqdm", Recorded)
    return reached


def test_a_run_on_a_terminal_shows_the_operators_done_on_stderr(no_delay, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    report = step.simulate("pim_gpt", "gpt2-xl", phase="decode", context=64)   # command-level PIM
    ops = len(report.ops)
    assert "pim-gpt" in terminal.getvalue().lower() and f"0/{ops}" in terminal.getvalue()
    [(done, total)] = no_delay
    assert total == ops and ops - ops // 200 <= done <= ops      # moved in steps of 0.5% up to the end


def test_piped_stderr_gets_no_bar(no_delay, capsys):
    step.simulate("cambricon_llm_s", "opt-6.7b", context=64)                   # flash
    assert capsys.readouterr().err == "" and len(no_delay) == 1


def _bar_text_in_a_worker(_) -> str:
    terminal = Terminal()
    sys.stderr = terminal
    step.PROGRESS_DELAY_S = 0
    step.simulate("nvidia_t4", "gpt2-xl", context=64)
    return terminal.getvalue()


def test_a_sweep_worker_process_draws_no_bar_over_the_sweeps_own():
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1) as pool:
        assert pool.submit(_bar_text_in_a_worker, None).result() == ""
