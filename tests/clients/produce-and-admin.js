// kafkajs against the broker: admin creates and lists topics, a producer sends one batch.
// Usage: node produce-and-admin.js <host:port> <topic>; prints a JSON summary on success.
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [broker, topic] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'kafkajs-test', brokers: [broker], logLevel: logLevel.ERROR, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  const topics = await admin.listTopics();
  await admin.disconnect();

  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: `kafkajs message ${i}` }));
  const results = await producer.send({ topic, messages, acks: -1 });
  await producer.disconnect();
  console.log(JSON.stringify({ created, topics, results }));
}

main().catch(error => { console.error(error); process.exit(1); });
