from __future__ import annotations

import pytest
from tests.unit.detect.synth import make_view

from bulwark.detect.model import ChainView


@pytest.fixture
def view() -> ChainView:
    return make_view()
