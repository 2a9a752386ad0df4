// kafkajs against the broker: one batch of ten records a minute apart (gzip when asked), then the
// admin's offsets for a time inside that batch. Usage: node offsets-by-time.js <host:port> <topic> <start ms> <gzip|none> <ts>...
// Prints a JSON array: for each ts, the offset kafkajs got.
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');

async function main() {
  const [broker, topic, start, codec, ...times] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'kafkajs-times', brokers: [broker], logLevel: logLevel.ERROR, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, timestamp: String(Number(start) + i * 60000) }));
  await producer.send({ topic, messages, acks: -1, compression: codec === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None });
  await producer.disconnect();
  const offsets = [];
  for (const ts of times) {
    const [partition] = await admin.fetchTopicOffsetsByTimestamp(topic, Number(ts));
    offsets.push(Number(partition.offset));
  }
  await admin.disconnect();
  console.log(JSON.stringify(offsets));
}

main().catch(error => { console.error(error); process.exit(1); });
