"""A minimal graphql-transport-ws client (the protocol Apollo and urql speak), on the websockets library."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


class GraphQLSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._next_id = 0

    @classmethod
    async def connect(cls, url: str, token: str | None) -> GraphQLSocket:
        connection = await websockets.connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        socket = cls(connection)
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        return socket

    async def acknowledged(self) -> bool:
        message = json.loads(await asyncio.wait_for(self.connection.recv(), timeout=10))
        return bool(message["type"] == "connection_ack")

    async def subscribe(self, query: str, variables: dict[str, Any]) -> str:
        self._next_id += 1
        operation = str(self._next_id)
        await self.connection.send(
            json.dumps({"id": operation, "type": "subscribe", "payload": {"query": query, "variables": variables}})
        )
        return operation

    async def receive(self, timeout: float = 60) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), timeout=timeout))
        if message["type"] == "ping":
            await self.connection.send(json.dumps({"type": "pong"}))
            return await self.receive(timeout)
        return message

    async def close(self) -> None:
        await self.connection.close()
