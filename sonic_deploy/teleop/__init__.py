"""How an operator's data reaches the robot's computer: one loopback WebSocket server (with the WebXR page for
Quest, PICO and Vision Pro browsers), recorded VR sessions and their replay, and a clip sender that plays the
part of a planner. What the robot does with the data (calibration, smoothing, dropout) is a reference source in
:mod:`sonic_deploy.inputs`."""
