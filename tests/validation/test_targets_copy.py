"""The targets file hwsim ships equals the team's published targets when those are beside the repo."""
import pytest

from hwsim.validate.runner import SHARED, SHIPPED


def test_shipped_targets_equal_the_shared_file():
    if not SHARED.is_file():
        pytest.skip(f"no shared targets at {SHARED} to compare with")
    assert SHIPPED.read_text() == SHARED.read_text(), "copy ../shared/validation/targets.yaml to hwsim/validate/"
