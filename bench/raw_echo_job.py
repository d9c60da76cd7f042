"""The raw baseline's job: consume a command, publish a reply. Plain aiokafka, no state, no checks.

Same Kafka settings as a derived job (consumer group, commit after the reply is acknowledged,
idempotent producer with acks=all), so the baseline measures only what Kafka itself costs.
Usage: raw_echo_job.py BOOTSTRAP COMMANDS_TOPIC REPLIES_TOPIC GROUP
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def main(bootstrap: str, commands: str, replies: str, group: str) -> None:
    consumer = AIOKafkaConsumer(
        commands,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=1)
    await consumer.start()
    await producer.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            futures = []
            for records in batch.values():
                for record in records:
                    futures.append(await producer.send(replies, record.value, key=record.key))
            if futures:
                await asyncio.gather(*futures)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
