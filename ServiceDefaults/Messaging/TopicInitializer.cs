using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// Creates the shop's topics with their partitions and configs before the service consumes
/// (existing ones are left alone, and so are those its principal may not create).
/// </summary>
public sealed class TopicInitializer(BrokerConnection broker, ILogger<TopicInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var admin = new AdminClientBuilder(broker.Configure(new AdminClientConfig())).Build();
        var specs = Topics.All.Select(t => new TopicSpecification
        {
            Name = t.Name, NumPartitions = t.Partitions, ReplicationFactor = 1, Configs = t.Configs.ToDictionary(),
        }).ToList();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await admin.CreateTopicsAsync(specs);
                logger.LogInformation("Created the shop's topics");
                return;
            }
            catch (CreateTopicsException ex) when (ex.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists or ErrorCode.TopicAuthorizationFailed))
            {
                // With ACLs a service may create only the topics it writes: the others are their writers' to create.
                var others = ex.Results.Where(r => r.Error.Code == ErrorCode.TopicAuthorizationFailed).Select(r => r.Topic).ToList();
                if (others.Count > 0) logger.LogInformation("Topics left to the services that write them: {Topics}", string.Join(", ", others));
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
