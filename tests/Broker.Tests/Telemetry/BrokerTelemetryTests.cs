using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Testing;

namespace Shop.Broker.Tests.Telemetry;

/// <summary>A broker exporting its spans and metrics over OTLP to a receiver in the test.</summary>
public sealed class TelemetryFixture : IAsyncLifetime
{
    public OtlpReceiver Receiver { get; private set; } = null!;

    public BrokerProcess Broker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Receiver = await OtlpReceiver.StartAsync();
        Broker = await BrokerProcess.StartAsync(new Dictionary<string, string>(Receiver.Environment) { ["OTEL_SERVICE_NAME"] = "broker" });
    }

    public async Task DisposeAsync()
    {
        await Broker.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

public sealed class BrokerTelemetryTests(TelemetryFixture fixture) : IClassFixture<TelemetryFixture>
{
    private async Task CreateTopicAsync(string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1 }]);
    }

    private async Task ProduceAsync(string topic, int count, Headers? headers = null)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();
        for (var i = 0; i < count; i++) await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = $"v{i}", Headers = headers });
    }

    /// <summary>Waits for a condition on what the receiver got (exports arrive every half second).</summary>
    private static async Task<T> AwaitAsync<T>(Func<T?> find, Func<string> what) where T : class =>
        (await Eventually.GetAsync(find, found => found is not null, _ => $"never received {what()}", TimeSpan.FromSeconds(30)))!;

    private string? LatestLag(string group, string topic, ulong after) => fixture.Receiver.Points
        .Where(p => p.Metric == "shop.broker.consumer_lag" && p.TimeUnixNano > after
            && Equals(p.Attributes.GetValueOrDefault("messaging.consumer.group.name"), group)
            && Equals(p.Attributes.GetValueOrDefault("messaging.destination.name"), topic))
        .MaxBy(p => p.TimeUnixNano)?.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static ulong Now => (ulong)(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000);

    private async Task AwaitLagAsync(string group, string topic, long expected)
    {
        var since = Now;
        await AwaitAsync(() => LatestLag(group, topic, since) == expected.ToString() ? "" : null,
            () => $"consumer lag {expected} for {group} on {topic} (last seen {LatestLag(group, topic, 0) ?? "none"})");
    }

    private void ConsumeAndCommit(string group, string topic, int count)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            GroupId = group,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        for (var i = 0; i < count; i++)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"record {i} of {count} never came");
            consumer.Commit(result);
        }
        consumer.Close();
    }

    [Fact]
    public async Task Consumer_lag_of_a_stopped_group_grows_with_produced_records_and_returns_to_zero_after_it_catches_up()
    {
        const string topic = "lag-watch", group = "reporting";
        await CreateTopicAsync(topic);
        await ProduceAsync(topic, 5);
        ConsumeAndCommit(group, topic, 5);
        await AwaitLagAsync(group, topic, 0);

        // The group is stopped: what is produced now waits for it.
        await ProduceAsync(topic, 20);
        await AwaitLagAsync(group, topic, 20);
        await ProduceAsync(topic, 10);
        await AwaitLagAsync(group, topic, 30);

        ConsumeAndCommit(group, topic, 30);
        await AwaitLagAsync(group, topic, 0);
    }

    [Fact]
    public async Task A_produce_carrying_a_traceparent_gets_a_broker_span_in_that_trace()
    {
        const string topic = "traced";
        await CreateTopicAsync(topic);
        var traceId = ActivityTraceId.CreateRandom();
        var parentSpan = ActivitySpanId.CreateRandom();
        var headers = new Headers { { "traceparent", Encoding.ASCII.GetBytes($"00-{traceId}-{parentSpan}-01") } };
        await ProduceAsync(topic, 1, headers);
        ConsumeAndCommit("traced-reader", topic, 1);

        var produce = await AwaitAsync(() => fixture.Receiver.Spans.FirstOrDefault(s => s.TraceId == traceId.ToString() && s.Name == $"broker produce {topic}"),
            () => "the broker's produce span");
        Assert.Equal(parentSpan.ToString(), produce.ParentSpanId);
        Assert.Equal("broker", produce.Service);
        Assert.Equal(SpanKind.Server, produce.Kind);
        Assert.Equal("kafka", produce.Attributes["messaging.system"]);
        Assert.Equal(topic, produce.Attributes["messaging.destination.name"]);
        Assert.Equal("0", produce.Attributes["messaging.destination.partition.id"]);
        Assert.Equal(0L, produce.Attributes["messaging.kafka.offset"]);

        var fetch = await AwaitAsync(() => fixture.Receiver.Spans.FirstOrDefault(s => s.TraceId == traceId.ToString() && s.Name == $"broker fetch {topic}"),
            () => "the broker's fetch span");
        Assert.Equal(parentSpan.ToString(), fetch.ParentSpanId);

        // Metrics of the same requests.
        await AwaitAsync(() => fixture.Receiver.Points.FirstOrDefault(p => p.Metric == "shop.broker.requests"
            && Equals(p.Attributes.GetValueOrDefault("kafka.api"), "Produce") && p.Value >= 1), () => "a Produce request count");
        await AwaitAsync(() => fixture.Receiver.Points.FirstOrDefault(p => p.Metric == "shop.broker.log_end_offset"
            && Equals(p.Attributes.GetValueOrDefault("messaging.destination.name"), topic) && p.Value == 1), () => "the log end offset of the topic");
    }
}
