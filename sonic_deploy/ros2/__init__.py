"""Plain (rclpy-free) functions behind the ROS 2 node in ``ros2_ws/src/sonic_deploy``: parameter validation,
message <-> controller mapping, launch-argument handling. Tested without ROS."""
