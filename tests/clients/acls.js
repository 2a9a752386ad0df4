// kafkajs admin creates, describes and deletes an ACL as a SASL user.
// Usage: node acls.js <host:port> <user> <password> <principal> <topic>
// Prints JSON: what describeAcls found after create and after delete.
const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = require('kafkajs');

async function main() {
  const [broker, username, password, principal, topic] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'kafkajs-acls', brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 1 },
    sasl: { mechanism: 'scram-sha-512', username, password } });
  const admin = kafka.admin();
  await admin.connect();
  const acl = {
    resourceType: AclResourceTypes.TOPIC, resourceName: topic, resourcePatternType: ResourcePatternTypes.LITERAL,
    principal, host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW,
  };
  await admin.createAcls({ acl: [acl] });
  const filter = { resourceType: AclResourceTypes.TOPIC, resourceName: topic, resourcePatternType: ResourcePatternTypes.LITERAL,
    principal, host: '*', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY };
  const described = (await admin.describeAcls(filter)).resources;
  const deleted = (await admin.deleteAcls({ filters: [filter] })).filterResponses[0].matchingAcls.length;
  const after = (await admin.describeAcls(filter)).resources;
  await admin.disconnect();
  console.log(JSON.stringify({ described, deleted, after }));
}

main().catch(error => { console.error(`${error.name}: ${error.message}`); process.exit(1); });
