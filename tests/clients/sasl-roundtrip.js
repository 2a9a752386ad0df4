// kafkajs with SASL (and TLS when a CA file is given): produce one message, read it back.
// Usage: node sasl-roundtrip.js <host:port> <mechanism> <user> <password> <topic> [ca.pem]
// Prints the value read back; exits 1 with the client's error message on stderr when refused.
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [broker, mechanism, username, password, topic, caFile] = process.argv.slice(2);
  const kafka = new Kafka({
    clientId: 'kafkajs-sasl', brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 0 },
    sasl: { mechanism, username, password },
    ssl: caFile ? { ca: [fs.readFileSync(caFile, 'utf8')] } : false,
  });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value: `from kafkajs over ${mechanism}` }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const value = await new Promise((resolve, reject) => {
    consumer.run({ eachMessage: async ({ message }) => resolve(message.value.toString()) }).catch(reject);
  });
  await consumer.disconnect();
  console.log(value);
}

main().catch(error => { console.error(`${error.name}: ${error.message}`); process.exit(1); });
