using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Messaging.Tests;

/// <summary>Client settings come from configuration, Aspire-style, and win over the shop's defaults.</summary>
public sealed class BrokerConnectionTests
{
    private static BrokerConnection Connection(Dictionary<string, string?> settings) =>
        BrokerConnection.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

    [Fact]
    public void Settings_for_every_client_and_for_one_kind_bind_onto_the_config_and_override_the_defaults()
    {
        var connection = Connection(new()
        {
            ["ConnectionStrings:broker"] = " kafka1:9092,kafka2:9092 ",
            ["Messaging:SecurityProtocol"] = "SaslSsl",
            ["Messaging:SaslMechanism"] = "ScramSha256",
            ["Messaging:SaslUsername"] = "shop",
            ["Messaging:SaslPassword"] = "secret",
            ["Messaging:SslCaLocation"] = "/etc/ssl/kafka-ca.pem",
            ["Messaging:Producer:LingerMs"] = "5",
            ["Messaging:Consumer:FetchWaitMaxMs"] = "50",
        });

        var producer = connection.Producer(new ProducerConfig { LingerMs = 1, EnableIdempotence = true });
        Assert.Equal("kafka1:9092,kafka2:9092", producer.BootstrapServers);
        Assert.Equal((SecurityProtocol.SaslSsl, SaslMechanism.ScramSha256, "shop", "secret"), (producer.SecurityProtocol, producer.SaslMechanism, producer.SaslUsername, producer.SaslPassword));
        Assert.Equal("/etc/ssl/kafka-ca.pem", producer.SslCaLocation);
        Assert.Equal(5, producer.LingerMs);
        Assert.True(producer.EnableIdempotence);
        Assert.Null(producer.Get("fetch.wait.max.ms"));

        var consumer = connection.Consumer(new ConsumerConfig { GroupId = "orders" });
        Assert.Equal(50, consumer.FetchWaitMaxMs);
        Assert.Equal("shop", consumer.SaslUsername);
        Assert.Null(consumer.Get("linger.ms"));
        Assert.DoesNotContain("secret", connection.ToString());
    }

    [Fact]
    public void A_read_model_group_waits_for_batches_through_Kafka_fetch_settings_and_configuration_still_wins()
    {
        var group = new ConsumerGroup("webshop");
        group.WaitForBatches(TimeSpan.FromMilliseconds(100));
        var batched = new ConsumerConfig { GroupId = group.GroupId }.WithBatchWait(group.BatchWait);
        Assert.Equal((100, 1 << 20), (batched.FetchWaitMaxMs, batched.FetchMinBytes));

        var onThePath = new ConsumerConfig { GroupId = "orders" }.WithBatchWait(new ConsumerGroup("orders").BatchWait);
        Assert.Equal((null, null), (onThePath.FetchWaitMaxMs, onThePath.FetchMinBytes)); // librdkafka's: answered on the first record

        var configured = Connection(new() { ["ConnectionStrings:broker"] = "localhost:9092", ["Messaging:Consumer:FetchWaitMaxMs"] = "20" })
            .Consumer(new ConsumerConfig { GroupId = group.GroupId }.WithBatchWait(group.BatchWait));
        Assert.Equal(20, configured.FetchWaitMaxMs);

        Assert.Contains("between 0 and 5 s", Assert.Throws<ArgumentOutOfRangeException>(() => group.WaitForBatches(TimeSpan.FromMinutes(1))).Message);
    }

    [Fact]
    public void A_missing_connection_string_or_password_is_a_clear_error()
    {
        var missing = Assert.Throws<InvalidOperationException>(() => Connection(new()));
        Assert.Contains("ConnectionStrings__broker", missing.Message);

        var noPassword = Connection(new() { ["ConnectionStrings:broker"] = "localhost:9092", ["Messaging:SaslUsername"] = "shop" });
        Assert.Contains("Messaging:SaslPassword is not set for user shop", Assert.Throws<InvalidOperationException>(() => noPassword.Admin(new AdminClientConfig())).Message);
    }
}
