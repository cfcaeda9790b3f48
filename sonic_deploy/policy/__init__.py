"""Policy artifacts: the sonic.policy/1 contract, observation terms, the ONNX runner, third-party adapters."""

from sonic_deploy.policy.contract import ContractError, PolicyContract, TermSpec

__all__ = ["ContractError", "PolicyContract", "TermSpec"]
