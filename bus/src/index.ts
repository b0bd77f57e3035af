export { createMemoryBus, type MemoryBus, type MemoryBusOptions } from './memory-bus.js';
export { createThreadPublisher, serveThreadPublisher, type ThreadPublisherOptions, type ThreadPipelineOptions, type ThreadPipeline } from './thread-bus.js';
// Kafka: options, constants and the event-batch format load no Kafka library; createKafkaBus loads the
// Kafka modules when it is called (kafka.ts).
export { createKafkaBus, loadKafkaBusModule, KAFKA_CLIENT_PACKAGES } from './kafka.js';
export {
  DEFAULT_KAFKA_TOPICS, SCHEMA_VERSION_HEADER, DEAD_LETTER_REASON_HEADER, KAFKA_COMPRESSIONS,
  type KafkaBus, type KafkaBusOptions, type KafkaTopicSpec, type PartitionLag, type KafkaBusStats, type KafkaCompression,
} from './kafka-options.js';
export { decodeEventBatchRecord, eventBatchRecords, VALUE_FORMAT_HEADER, type EventBatchRecord } from './kafka-event-batch.js';
export { createSpooledBus, type SpooledBus, type SpooledBusOptions, type SpoolStats } from './spooled-bus.js';
export { openBus, kafkaBusOptions, gatewaySpoolDir, strandedSpoolDirs, replayStrandedSpools, type OpenBusOptions } from './open-bus.js';
