using Shop.Broker.Apis;
using Shop.Broker.Groups;
using Shop.Broker.Security;
using Shop.Broker.Storage;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker;

public static class BrokerServices
{
    /// <summary>The log, every Kafka API handler and the registry that dispatches to them.</summary>
    public static IServiceCollection AddBroker(this IServiceCollection services, BrokerOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(sp => new LogContext(
            options.TestFsyncDelayMs > 0 ? new SlowSyncDisk(new PhysicalDisk(), TimeSpan.FromMilliseconds(options.TestFsyncDelayMs)) : new PhysicalDisk(),
            options, TimeProvider.System, StorageScheduler.Default, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new LogManager(sp.GetRequiredService<LogContext>()));
        services.AddSingleton<KafkaApi, ApiVersionsApi>();
        services.AddSingleton<KafkaApi, MetadataApi>();
        services.AddSingleton<KafkaApi, ProduceApi>();
        services.AddSingleton<KafkaApi, FetchApi>();
        services.AddSingleton<KafkaApi, ListOffsetsApi>();
        services.AddSingleton<KafkaApi, CreateTopicsApi>();
        services.AddSingleton<KafkaApi, DeleteTopicsApi>();
        services.AddSingleton<KafkaApi, DescribeConfigsApi>();
        services.AddSingleton<KafkaApi, AlterConfigsApi>();
        services.AddSingleton<KafkaApi, IncrementalAlterConfigsApi>();
        services.AddSingleton<KafkaApi, CreatePartitionsApi>();
        services.AddSingleton<KafkaApi, DeleteRecordsApi>();
        services.AddSingleton<KafkaApi, InitProducerIdApi>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<CommittedOffsets>();
        services.AddSingleton<GroupCoordinator>();
        services.AddSingleton<KafkaApi, FindCoordinatorApi>();
        services.AddSingleton<KafkaApi, JoinGroupApi>();
        services.AddSingleton<KafkaApi, SyncGroupApi>();
        services.AddSingleton<KafkaApi, HeartbeatApi>();
        services.AddSingleton<KafkaApi, LeaveGroupApi>();
        services.AddSingleton<KafkaApi, OffsetCommitApi>();
        services.AddSingleton<KafkaApi, OffsetFetchApi>();
        services.AddSingleton<KafkaApi, ListGroupsApi>();
        services.AddSingleton<KafkaApi, DescribeGroupsApi>();
        services.AddSingleton<KafkaApi, DeleteGroupsApi>();
        services.AddSingleton<KafkaApi, OffsetDeleteApi>();
        services.AddSingleton<KafkaApi, OffsetForLeaderEpochApi>();
        services.AddSingleton<CredentialStore>();
        services.AddSingleton<SaslMechanisms>();
        services.AddSingleton<KafkaApi, SaslHandshakeApi>();
        services.AddSingleton<KafkaApi, SaslAuthenticateApi>();
        services.AddSingleton<KafkaApi, DescribeUserScramCredentialsApi>();
        services.AddSingleton<KafkaApi, AlterUserScramCredentialsApi>();
        services.AddSingleton<AclStore>();
        services.AddSingleton<Authorizer>();
        services.AddSingleton<KafkaApi, CreateAclsApi>();
        services.AddSingleton<KafkaApi, DescribeAclsApi>();
        services.AddSingleton<KafkaApi, DeleteAclsApi>();
        services.AddSingleton<ApiRegistry>();
        services.AddSingleton<Network.ConnectionLimits>();
        services.AddSingleton<Network.RequestMemory>();
        return services;
    }
}
