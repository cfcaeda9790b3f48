import os

import pytest

from sonic_deploy.dds.channel import DdsConfig


@pytest.fixture
def dds_cfg(request) -> DdsConfig:
    """A loopback DDS config on a domain id unlikely to collide with parallel test runs (or tests/deploy's)."""
    domain = 1 + (os.getpid() * 11 + hash(request.node.name)) % 99
    return DdsConfig(domain_id=domain, interface="lo", peers=("127.0.0.1",))
