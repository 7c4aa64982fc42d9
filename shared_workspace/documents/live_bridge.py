"""Fan-out of live co-editing between web processes over Redis pub/sub.

Every process subscribes to one pattern (``cjji:live:*``) and ignores rooms it does not hold
and its own messages; a message is the sender's origin id (16 bytes), a kind (``u`` update,
``a`` awareness, ``q`` "who is here?") and the payload.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared_workspace.documents.live_rooms import Hub

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "cjji:live:"


class RedisBridge:
    """Publishes this process's room traffic and applies other processes' (Redis pub/sub)."""

    def __init__(self, url: str, hub: Hub) -> None:
        from redis import Redis

        self.hub = hub
        self.redis = Redis.from_url(url)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.pubsub.psubscribe(CHANNEL_PREFIX + "*")
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True, name="live-redis")
        self.thread.start()

    def publish(self, key: str, kind: bytes, payload: bytes) -> None:
        try:
            self.redis.publish(CHANNEL_PREFIX + key, self.hub.origin + kind + payload)
        except Exception:  # noqa: BLE001 - other processes resync when their clients reconnect
            log.exception("live: publishing to Redis failed")

    def _listen(self) -> None:
        handle: Callable[[str, bytes, bytes], None] = self.hub.remote
        while not self.stopped.is_set():
            try:
                message = self.pubsub.get_message(timeout=1.0)
            except Exception:  # noqa: BLE001 - Redis restarting: try again shortly
                log.exception("live: reading from Redis failed")
                time.sleep(1.0)
                continue
            if not message or message.get("type") != "pmessage":
                continue
            channel = message["channel"]
            data: bytes = message["data"]
            if data[:16] == self.hub.origin or len(data) < 17:
                continue
            key = (channel.decode() if isinstance(channel, bytes) else channel)[
                len(CHANNEL_PREFIX) :
            ]
            try:
                handle(key, data[16:17], data[17:])
            except Exception:  # noqa: BLE001 - one bad message must not stop the bridge
                log.exception("live: a message from another process failed")

    def stop(self) -> None:
        self.stopped.set()
        self.pubsub.close()
