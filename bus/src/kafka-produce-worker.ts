/**
 * The Kafka producer thread (started by kafka-produce-thread.ts): owns @platformatic/kafka producers and
 * sends the packed requests it is given; answers each call once the brokers acknowledged it (or it failed).
 */
import { parentPort } from 'node:worker_threads';
import { type FromProducerThread, type ToProducerThread, unpackRequest } from './kafka-produce-thread.js';
import { platformaticProduceClient, type ProduceClient } from './kafka-producer-client.js';

const port = parentPort;
if (port === null) throw new Error('kafka-produce-worker runs only as a worker thread');

const producers = new Map<number, ProduceClient>();

function answer(call: number, err?: unknown): void {
  const message: FromProducerThread = { call };
  if (err !== undefined) {
    const e: Error & { code?: unknown } = err instanceof Error ? err : new Error(String(err));
    message.error = { name: e.name, message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}), ...(e.stack === undefined ? {} : { stack: e.stack }) };
  }
  port!.postMessage(message);
}

port.on('message', (message: ToProducerThread) => {
  if (message.op === 'open') {
    producers.set(message.producer, platformaticProduceClient(message.options));
    return;
  }
  const producer = producers.get(message.producer);
  if (producer === undefined) {
    answer(message.call, new Error(`kafka producer ${message.producer} is not open on the producer thread`));
    return;
  }
  let done: Promise<void>;
  switch (message.op) {
    case 'connect':
      done = producer.connect();
      break;
    case 'send':
      done = producer.send(unpackRequest(message.request));
      break;
    case 'close':
      producers.delete(message.producer);
      done = producer.close();
      break;
  }
  done.then(() => answer(message.call), (err: unknown) => answer(message.call, err));
});
