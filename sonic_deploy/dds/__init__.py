"""Unitree DDS wire for the G1: ``unitree_hg`` types, CRC32, numpy codec, loopback-capable channels."""

from sonic_deploy.dds.codec import LowCmdData, LowStateData, decode_lowcmd, decode_lowstate, encode_lowcmd, encode_lowstate
from sonic_deploy.dds.crc import crc32_image, crc32_words

__all__ = ["LowCmdData", "LowStateData", "decode_lowcmd", "decode_lowstate", "encode_lowcmd", "encode_lowstate",
           "crc32_image", "crc32_words"]
