"""Field readiness on the real G1: motor thermal protection and faults, the wireless remote and keyboard as
operator inputs, the raw-token input, and the configuration that holds their thresholds and bindings
(``sonic_deploy/config/g1_field.yaml``)."""
