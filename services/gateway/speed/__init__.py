"""The gateway's speed layer: fast GraphQL completion paths, the response cache, per-run memos.

Everything here only makes answers cheaper; none of it changes one. ``SAELAB_GATEWAY_FAST_PATHS=0`` turns it all
off (stock graphql-core execution, no cache, no memos) and the gateway test suite runs both ways. The fast paths
override graphql-core internals, so ``pyproject.toml`` bounds graphql-core and Strawberry to the versions tested.
"""
