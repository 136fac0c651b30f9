"""RabbitMQ on aio-pika: the topology, a publisher with confirms, and the consumer.

Topology, per consuming service `svc` (names carry the settings' `queue_prefix`):
- `itsm.events`: the durable topic exchange every service publishes to;
- `svc`: a durable quorum queue bound to the routing keys the service handles;
- `svc.retry.<delay>ms`: a queue whose messages wait `retry_delay_ms`, then dead-letter back to `svc`;
- `svc.dead`: the dead-letter queue, where a message lands after `max_delivery_attempts` failures,
  or after waiting `predecessor_wait_s` for an event it depends on (`NotYet`).

Attempts are counted in the `x-itsm-attempts` header that the consumer controls (the `x-death`
semantics changed across RabbitMQ versions). A quorum `x-delivery-limit` also dead-letters a
message that keeps crashing the consumer process before it can count.
"""

from __future__ import annotations

from shared.messaging.broker import BrokerConnection, EventPublisher
from shared.messaging.consumer import BatchHandler, ConsumerStats, EventConsumer, Handler, NotYet, data_handlers
from shared.messaging.topology import (
    ATTEMPTS_HEADER,
    ERROR_HEADER,
    QUORUM_DELIVERY_LIMIT,
    ROUTING_KEY_HEADER,
    WAITING_SINCE_HEADER,
    QueueNames,
    declare_exchange,
    declare_service_queues,
    header_int,
)

__all__ = [
    "ATTEMPTS_HEADER",
    "ERROR_HEADER",
    "QUORUM_DELIVERY_LIMIT",
    "ROUTING_KEY_HEADER",
    "WAITING_SINCE_HEADER",
    "BatchHandler",
    "BrokerConnection",
    "ConsumerStats",
    "EventConsumer",
    "EventPublisher",
    "Handler",
    "NotYet",
    "QueueNames",
    "data_handlers",
    "declare_exchange",
    "declare_service_queues",
    "header_int",
]
