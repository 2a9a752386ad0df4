using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>The topics this service reads (with their dead-letter twins) and writes, as its registrations declared them.</summary>
public sealed class ShopTopics
{
    private readonly Dictionary<string, TopicSpec> _specs = [];

    public void Add(TopicSpec spec) => _specs.TryAdd(spec.Name, spec);

    public IReadOnlyCollection<TopicSpec> Specs => _specs.Values;

    public IReadOnlyList<string> Names => _specs.Keys.Order().ToList();
}

/// <summary>
/// Creates the service's topics with their partitions and configs before the service consumes
/// (existing ones are left alone, and so are those its principal may not create).
/// </summary>
public sealed class TopicInitializer(BrokerConnection broker, ShopTopics topics, ILogger<TopicInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var admin = new AdminClientBuilder(broker.Admin(new AdminClientConfig())).Build();
        var specs = topics.Specs.Select(t => new TopicSpecification
        {
            Name = t.Name, NumPartitions = t.Partitions, ReplicationFactor = 1, Configs = t.Configs.ToDictionary(),
        }).ToList();
        if (specs.Count == 0) return;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await admin.CreateTopicsAsync(specs);
                logger.LogInformation("Created the topics {Topics}", string.Join(", ", topics.Names));
                return;
            }
            catch (CreateTopicsException ex) when (ex.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists or ErrorCode.TopicAuthorizationFailed))
            {
                // With ACLs a service may create only the topics it uses; a cluster may also refuse creation altogether.
                var others = ex.Results.Where(r => r.Error.Code == ErrorCode.TopicAuthorizationFailed).Select(r => r.Topic).ToList();
                if (others.Count > 0) logger.LogInformation("Topics this service may not create (left to whoever may): {Topics}", string.Join(", ", others));
                return;
            }
            catch (KafkaException ex) when (attempt < 30 && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Creating topics failed (attempt {Attempt}): {Error}", attempt, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
