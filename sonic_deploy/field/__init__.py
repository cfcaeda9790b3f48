"""The raw-token input (:mod:`sonic_deploy.field.tokens`). Thermal protection, the remote and the keyboard live in
:mod:`sonic_deploy.control`; the field configuration and its loader in :mod:`sonic_deploy.config`."""
