"""The field configuration (g1_field.yaml) and its loader: one ControllerConfig for every entry point."""

from sonic_deploy.config.loader import (FieldConfig, controller_config_from_dict, default_config_path,
                                        load_controller_config, load_field_config)

__all__ = ["FieldConfig", "controller_config_from_dict", "default_config_path", "load_controller_config",
           "load_field_config"]
