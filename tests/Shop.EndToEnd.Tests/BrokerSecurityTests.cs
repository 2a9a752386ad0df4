using Confluent.Kafka;

namespace Shop.EndToEnd.Tests;

/// <summary>Under the AppHost each service is its own principal on the broker, with only the ACLs its topics need.</summary>
public sealed class BrokerSecurityTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    [Fact]
    public async Task The_notifications_principal_cannot_produce_to_orders_nor_see_inventory()
    {
        var ordersBefore = await shop.EndOffsetSumAsync("orders");
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig(shop.BrokerClient("notifications")) { MessageTimeoutMs = 10_000 }).Build())
        {
            var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
                producer.ProduceAsync("orders", new Message<string, string> { Key = "forged", Value = "{\"order_id\":\"forged\"}" }));
            Assert.Equal(ErrorCode.TopicAuthorizationFailed, refused.Error.Code);
        }
        Assert.Equal(ordersBefore, await shop.EndOffsetSumAsync("orders"));

        using var admin = new AdminClientBuilder(shop.BrokerClient("notifications")).Build();
        var visible = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).ToList();
        Assert.Contains("orders", visible);          // it reads orders
        Assert.Contains("notifications", visible);   // and writes notifications
        Assert.DoesNotContain("inventory", visible); // nothing of its business
    }

    [Fact]
    public void A_client_without_credentials_is_turned_away()
    {
        using var anonymous = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = shop.BrokerAddress })
            .SetLogHandler((_, _) => { }).Build();
        Assert.ThrowsAny<KafkaException>(() => anonymous.GetMetadata(TimeSpan.FromSeconds(5)));
    }
}
