import pytest


@pytest.fixture
def columnar_root(tmp_path, settings):
    """The store's root in a fresh directory."""
    root = tmp_path / "columnar"
    settings.COSTLINE_COLUMNAR_ROOT = str(root)
    return root
