"""The WebXR teleop page (index.html), served by :class:`sonic_deploy.teleop.server.StreamServer`."""
