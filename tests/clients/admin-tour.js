// kafkajs admin against the broker, every call it has for topics and groups, in the order a user
// would make them. Usage: node admin-tour.js <host:port> <topic> <group>
// Prints one JSON object: what each step answered, for the test to check.
const { Kafka, logLevel, ConfigResourceTypes } = require('kafkajs');

async function main() {
  const [broker, topic, groupId] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'kafkajs-admin-tour', brokers: [broker], logLevel: logLevel.ERROR, retry: { retries: 3 } });
  const admin = kafka.admin();
  await admin.connect();
  const out = {};
  const describe = async () => {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'retention.ms'] }],
    });
    return Object.fromEntries(resources[0].configEntries.map(e => [e.configName, { value: e.configValue, isDefault: e.isDefault }]));
  };

  out.created = await admin.createTopics({
    topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'retention.ms', value: '3600000' }] }],
    waitForLeaders: true,
  });
  out.configsAtCreate = await describe();

  // AlterConfigs replaces the topic's whole set: cleanup.policy goes back to its default.
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '7200000' }] }] });
  out.configsAfterAlter = await describe();

  await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  out.partitions = metadata.topics[0].partitions.length;

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: 0 })) });
  await producer.disconnect();
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
  out.offsetsAfterDeleteRecords = (await admin.fetchTopicOffsets(topic)).find(p => p.partition === 0);

  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let consumed = 0;
  let running;
  const allConsumed = new Promise(resolve => { running = resolve; });
  await consumer.run({ eachMessage: async () => { if (++consumed === 6) running(); } });
  await allConsumed;
  out.listedWhileRunning = (await admin.listGroups()).groups.find(g => g.groupId === groupId) || null;
  const described = (await admin.describeGroups([groupId])).groups[0];
  out.describedWhileRunning = { state: described.state, protocolType: described.protocolType, members: described.members.length };
  await consumer.disconnect();

  out.committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions.find(p => p.partition === 0);
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '5' }] });
  out.committedAfterSet = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions.find(p => p.partition === 0);

  out.deletedGroups = await admin.deleteGroups([groupId]);
  out.listedAfterDelete = (await admin.listGroups()).groups.some(g => g.groupId === groupId);
  await admin.deleteTopics({ topics: [topic] });
  out.topicsAfterDelete = (await admin.listTopics()).includes(topic);
  await admin.disconnect();
  console.log(JSON.stringify(out));
}

main().catch(error => { console.error(error); process.exit(1); });
