"""ONNX export of a trained universal-token policy (one encoder + FSQ + g1_dyn) with the deploy contract."""

from sonic_train.export.onnx_export import (OPSET, TOLERANCE, DeployPolicy, ExportError, ExportResult,  # noqa: F401
                                            build_contract, check_parity, export_checkpoint)
