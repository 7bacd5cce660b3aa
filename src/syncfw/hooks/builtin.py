"""syncfw's own policies, registered through the same hook as a plugin's."""

from __future__ import annotations

from collections.abc import Callable

from syncfw.core.master_push import MasterPush
from syncfw.core.policies import Policy
from syncfw.core.two_way import OpenPullClosePush, TwoWay
from syncfw.markers import hookimpl


@hookimpl
def syncfw_register_policies(register: Callable[[Policy], None]) -> None:
    register(MasterPush())
    register(TwoWay())
    register(OpenPullClosePush())
