// kafkajs consumer group: consumes <count> messages of <topic> in <group>, committing each, then leaves.
// Usage: node group-consume.js <host:port> <topic> <group> <count>; prints the values as JSON.
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [broker, topic, groupId, count] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'kafkajs-group', brokers: [broker], logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${count} messages within 30 s`)), 30000);
    consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        values.push(message.value.toString());
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        if (values.length >= Number(count)) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  console.log(JSON.stringify(values));
}

main().catch(error => { console.error(error); process.exit(1); });
