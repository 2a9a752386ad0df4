using Shop.Broker.Apis;
using Shop.Broker.Storage;

namespace Shop.Broker;

public static class BrokerServices
{
    /// <summary>The log, every Kafka API handler and the registry that dispatches to them.</summary>
    public static IServiceCollection AddBroker(this IServiceCollection services, BrokerOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<LogManager>();
        services.AddSingleton<KafkaApi, ApiVersionsApi>();
        services.AddSingleton<KafkaApi, MetadataApi>();
        services.AddSingleton<KafkaApi, ProduceApi>();
        services.AddSingleton<KafkaApi, FetchApi>();
        services.AddSingleton<KafkaApi, ListOffsetsApi>();
        services.AddSingleton<KafkaApi, CreateTopicsApi>();
        services.AddSingleton<KafkaApi, DeleteTopicsApi>();
        services.AddSingleton<KafkaApi, DescribeConfigsApi>();
        services.AddSingleton<KafkaApi, InitProducerIdApi>();
        services.AddSingleton<ApiRegistry>();
        return services;
    }
}
