"""Policies: the declared Policy protocol (:mod:`.base`), format detection and loading (:mod:`.formats`), the
sonic.policy/1 contract and runner, the token decoder, and the field's formats (:mod:`.beyondmimic`,
:mod:`.holosoma`, :mod:`.gear_sonic`)."""

from sonic_deploy.policy.contract import ContractError, PolicyContract, TermSpec

__all__ = ["ContractError", "PolicyContract", "TermSpec"]
