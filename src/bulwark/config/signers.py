"""``signers``: owner keys that the incident pipeline may sign proposals with, per protocol.

    signers:
      demo:                         # a protocol with a policy
        - key: env:DEMO_OWNER_KEY_1  # env:NAME, file:PATH or keystore:PATH (+ password)
        - key: keystore:owner2.json
          password: env:OWNER2_PASSWORD

Only a configuration that means it holds keys: the demo's and a local rehearsal's. A production
configuration has no ``signers`` section, so automation never signs and the approve step waits for
the owners (``bulwark approve``). Keys are references, read when a proposal is signed, never here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from bulwark.config.secrets import KeyRef, Secret

__all__ = ["SignerConfig"]


class SignerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: KeyRef
    password: Secret | None = None

    @model_validator(mode="after")
    def _keystore_password(self) -> SignerConfig:
        if self.key.kind == "keystore" and self.password is None:
            raise PydanticCustomError(
                "keystore_password", "key is a keystore: give password (env:NAME or file:PATH)"
            )
        return self

    def private_key(self) -> str:
        return self.key.private_key(self.password)
