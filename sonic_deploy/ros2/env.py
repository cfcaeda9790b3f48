"""The process environment rclpy needs, from either kind of ROS 2 install.

* A sourced ROS 2 install (``ROS_DISTRO`` set by its ``setup.bash``): that install's environment serves as it is.
* The ROS 2 wheels from PyPI (``ros-rclpy`` and friends, what ``scripts/install.sh`` installs on x86_64): their
  shared libraries live in ``<venv>/lib`` and ``<site-packages>/ros_*.libs``. The dynamic loader reads
  ``LD_LIBRARY_PATH`` only when a process starts, and rcl finds the middleware and the message type supports by
  searching that variable, so it must be set before the interpreter starts: the wheel's own bootstrapper
  (``ros_wheels_bootstrapper.pth``) re-executes every Python of the environment once to do it, but it trusts its
  guard variable, which survives where ``LD_LIBRARY_PATH`` does not (``sudo`` drops ``LD_*``). The wheels carry one
  middleware, Fast DDS, so ``RMW_IMPLEMENTATION`` must be ``rmw_fastrtps_cpp`` (a shell set up for another ROS
  install may say ``rmw_cyclonedds_cpp``).

:func:`ros_environment` returns the environment a child process needs (tests start the node with it);
:func:`ensure_ros_environment` re-executes the current process with it when it is missing (the node script calls it
before ``import rclpy``); ``python -m sonic_deploy.ros2.env`` prints it as shell ``export`` lines.

DDS domains: ROS 2 (Fast DDS) and Unitree's ``rt/lowstate`` / ``rt/lowcmd`` (Cyclone DDS) must not share a domain.
Cyclone DDS parses the type information Fast DDS announces for every ROS topic and cannot read it; on one domain the
node's log fills with ``ddsi_xt_type_init_impl with invalid type object`` lines. The robot's DDS is on domain 0, so
ROS 2 goes elsewhere: :func:`ros_environment` sets ``ROS_DOMAIN_ID`` (default :data:`DEFAULT_ROS_DOMAIN`) when it
is unset or equals the Unitree domain, and the node refuses to start when both are the same.
"""

from __future__ import annotations

import os
import shlex
import sys
import sysconfig
from pathlib import Path

RMW = "rmw_fastrtps_cpp"
DEFAULT_ROS_DOMAIN = 10
GUARD = "_ROS_WHEELS_BOOTSTRAP_COMPLETE"  # the ros-wheels-bootstrapper's own re-exec guard


def sourced_ros() -> bool:
    """True when a ROS 2 install's setup script has run (its environment serves)."""
    return bool(os.environ.get("ROS_DISTRO"))


def wheel_library_dirs(prefix: str | None = None) -> list[str]:
    """The ROS 2 wheels' shared-library folders (empty when the wheels are not installed)."""
    prefix = prefix or sys.prefix
    site = Path(sysconfig.get_path("purelib", vars={"base": prefix, "platbase": prefix}))
    lib = Path(prefix) / "lib"
    if not (site / "rclpy").is_dir() or not (lib / "librcl.so").exists():
        return []
    return [str(lib)] + sorted(str(p) for p in site.glob("ros_*.libs") if p.is_dir())


def ros_environment(base: dict | None = None, *, unitree_domain: int | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) plus what rclpy needs; ``unitree_domain``: the DDS domain of
    ``rt/lowstate`` / ``rt/lowcmd``, so that ROS 2 is put on another one."""
    env = dict(os.environ if base is None else base)
    if not env.get("ROS_DISTRO"):
        dirs = wheel_library_dirs()
        if dirs:
            have = [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]
            env["LD_LIBRARY_PATH"] = os.pathsep.join(dirs + [p for p in have if p not in dirs])
            env["RMW_IMPLEMENTATION"] = RMW
            env[GUARD] = "1"
    if unitree_domain is not None and env.get("ROS_DOMAIN_ID", "") in ("", str(unitree_domain)):
        env["ROS_DOMAIN_ID"] = str(DEFAULT_ROS_DOMAIN if unitree_domain != DEFAULT_ROS_DOMAIN else DEFAULT_ROS_DOMAIN + 1)
    return env


def missing(env: dict | None = None) -> list[str]:
    """Names of the variables this process lacks (empty: rclpy can start here)."""
    env = dict(os.environ if env is None else env)
    want = ros_environment(env)
    out = []
    for k in ("LD_LIBRARY_PATH", "RMW_IMPLEMENTATION"):
        if k == "LD_LIBRARY_PATH":
            have = env.get(k, "").split(os.pathsep)
            if any(p not in have for p in want.get(k, "").split(os.pathsep) if p):
                out.append(k)
        elif want.get(k) != env.get(k):
            out.append(k)
    return out


def ensure_ros_environment(argv: list[str] | None = None) -> None:
    """Re-execute this process with :func:`ros_environment` when it lacks it (call before ``import rclpy``); a
    second pass never re-executes again."""
    if not missing() or os.environ.get("SONIC_ROS_ENV_REEXEC") == "1":
        return
    env = ros_environment()
    env["SONIC_ROS_ENV_REEXEC"] = "1"
    argv = list(sys.orig_argv if argv is None else argv)
    os.execve(sys.executable, [sys.executable] + argv[1:], env)


def shell_exports(env: dict[str, str] | None = None) -> str:
    """``export NAME=value`` lines for what :func:`ros_environment` adds or changes."""
    env = ros_environment() if env is None else env
    lines = [f"export {k}={shlex.quote(v)}" for k, v in env.items()
             if k in ("LD_LIBRARY_PATH", "RMW_IMPLEMENTATION", GUARD, "ROS_DOMAIN_ID") and os.environ.get(k) != v]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``eval "$(python -m sonic_deploy.ros2.env [UNITREE_DOMAIN])"``: set up a shell for ``ros2``-free rclpy tools."""
    argv = sys.argv[1:] if argv is None else argv
    domain = int(argv[0]) if argv else None
    if not sourced_ros() and not wheel_library_dirs():
        print("sonic_deploy.ros2.env: no ROS 2 here: neither a sourced ROS 2 install (ROS_DISTRO) nor the ROS 2 "
              "wheels (bash scripts/install.sh installs them on x86_64)", file=sys.stderr)
        return 2
    print(shell_exports(ros_environment(unitree_domain=domain)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
