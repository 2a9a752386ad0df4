using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Messaging.Tests;

/// <summary>A service's messaging parts on a fresh SQLite file in a temporary folder, pointed at a real broker process.</summary>
public sealed class MessagingSetup : IAsyncDisposable
{
    private readonly DirectoryInfo _dataDir = Directory.CreateTempSubdirectory("messaging-test-");

    private MessagingSetup(BrokerProcess broker, TimeProvider time, IReadOnlyDictionary<string, string?> settings)
    {
        Broker = broker;
        Time = time;
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["Shop:DataDir"] = _dataDir.FullName }).Build();
        Database = new ServiceDatabase(Configuration, "service");
        Connection = new BrokerConnection(broker.BootstrapServers, Configuration);
        Outbox = new Outbox(Handoff, time);
        Inbox = new Inbox(time);
    }

    public BrokerProcess Broker { get; }
    public TimeProvider Time { get; }
    public IConfiguration Configuration { get; }
    public ServiceDatabase Database { get; }
    public BrokerConnection Connection { get; }
    public OutboxHandoff Handoff { get; } = new();
    public Outbox Outbox { get; }
    public Inbox Inbox { get; }

    /// <summary>A setup whose tables exist (the messaging schema migrated, as at a service's start).</summary>
    public static async Task<MessagingSetup> StartAsync(BrokerProcess broker, TimeProvider? time = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var setup = new MessagingSetup(broker, time ?? TimeProvider.System, settings ?? new Dictionary<string, string?>());
        await new DatabaseMigrator(setup.Database, [MessagingSchema.Schema], NullLogger<DatabaseMigrator>.Instance).StartingAsync(CancellationToken.None);
        return setup;
    }

    public IProducer<string, byte[]> NewProducer() => new ProducerBuilder<string, byte[]>(Connection.Producer(new ProducerConfig
    {
        EnableIdempotence = true, Acks = Acks.All, LingerMs = 5, MessageTimeoutMs = 0, Partitioner = Partitioner.Murmur2Random,
    })).Build();

    public long Scalar(string sql)
    {
        using var connection = Database.Open();
        using var command = ServiceDatabase.Command(connection, sql);
        return (long)command.ExecuteScalar()!;
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { _dataDir.Delete(recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}
