using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Shop.Testing;

namespace Shop.EndToEnd.Tests;

/// <summary>The seed's e-shop scenario on the real AppHost: every order through the broker, none lost, duplicated or oversold.</summary>
public sealed class OrderSagaTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private static object Order(params (string Product, int Quantity, decimal Price)[] lines) => ShopFixture.Order(lines);

    private Task<string> PlaceAcceptedAsync(object order) => shop.PlaceAcceptedAsync(order);

    [Fact]
    public async Task An_order_completes_takes_its_stock_and_sends_exactly_one_mail()
    {
        var before = await shop.StockAsync();
        var orderId = await PlaceAcceptedAsync(Order(("535", 2, 300m), ("125", 1, 100m)));

        var view = await shop.AwaitOrderAsync(orderId, ShopFixture.Finished);
        Assert.Equal("Completed", view.Status);
        var statuses = view.History.Select(h => h.Status).ToList();
        Assert.Equal("Placed", statuses[0]);
        Assert.Superset(new HashSet<string> { "Pending", "StockReserved", "Completed", "Notified" }, statuses.ToHashSet());
        Assert.True(statuses.IndexOf("Completed") < statuses.IndexOf("Notified"), string.Join(" → ", statuses));
        var after = await shop.StockAsync();
        Assert.Equal(before["535"] - 2, after["535"]);
        Assert.Equal(before["125"] - 1, after["125"]);
        Assert.Equal([$"Your order {orderId} is confirmed"], await shop.MailsAboutAsync(orderId, atLeast: 1));
    }

    [Fact]
    public async Task The_groups_on_an_orders_path_are_given_only_the_topics_of_the_events_they_handle()
    {
        // Their fetches are answered on every record, so a topic they mostly passed over would wake
        // them for nothing (docs/architecture.md, "The order flow's topics").
        Assert.Equal(["reservations"], await AssignedTopicsAsync("inventory"));
        Assert.Equal(["inventory", "orders"], await AssignedTopicsAsync("orders"));
    }

    /// <summary>The topics the broker assigned to the group's members, once it has any.</summary>
    private async Task<List<string>> AssignedTopicsAsync(string groupId)
    {
        var group = await Eventually.GetAsync(() => shop.BrokerConsole.GetFromJsonAsync<JsonElement>($"/api/groups/{groupId}"),
            group => AssignedTopics(group).Count > 0, group => $"group {groupId} has no assignment: {group}");
        return AssignedTopics(group);
    }

    private static List<string> AssignedTopics(JsonElement group) => group.GetProperty("members").EnumerateArray()
        .SelectMany(m => m.GetProperty("assignment").EnumerateArray().Select(p => p.GetProperty("topic").GetString()!))
        .Distinct().Order().ToList();

    [Fact]
    public async Task The_catalogue_follows_stock_levels_by_value_and_keeps_no_inbox_ids_for_them()
    {
        var orderId = await PlaceAcceptedAsync(Order(("200", 1, 200m)));
        await shop.AwaitOrderAsync(orderId, ShopFixture.Finished);
        var level = (await shop.StockAsync())["200"];
        await Eventually.GetAsync(() => CatalogueLevelAsync("200"), shown => shown == level,
            shown => $"the catalogue shows {shown} in stock of product 200, not {level}");
        // The compacted topic's ids would be kept for ever; the last-value group records none.
        await using var webshop = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(shop.DataDir, "webshop", "webshop.db")};Mode=ReadOnly;Pooling=False");
        await webshop.OpenAsync();
        await using var count = webshop.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FILTER (WHERE consumer_group = 'webshop-stock'), COUNT(*) FILTER (WHERE consumer_group = 'webshop') FROM consumer_inbox";
        await using var reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(0, reader.GetInt64(0));
        Assert.True(reader.GetInt64(1) > 0, "the status page's group keeps its inbox");
    }

    private async Task<int?> CatalogueLevelAsync(string productId)
    {
        using var products = System.Text.Json.JsonDocument.Parse(await shop.WebShop.GetStringAsync("/api/products"));
        var product = products.RootElement.EnumerateArray().Single(p => p.GetProperty("product_id").GetString() == productId);
        return product.GetProperty("in_stock").ValueKind == System.Text.Json.JsonValueKind.Number ? product.GetProperty("in_stock").GetInt32() : null;
    }

    [Fact]
    public async Task An_order_for_more_than_is_in_stock_is_rejected_with_a_reason_and_one_mail()
    {
        var before = await shop.StockAsync();
        var orderId = await PlaceAcceptedAsync(Order(("525", before["525"] + 1, 500m)));

        var view = await shop.AwaitOrderAsync(orderId, ShopFixture.Finished);
        Assert.Equal("Rejected", view.Status);
        Assert.Contains("Not enough stock of 525", view.Reason);
        Assert.Equal(before["525"], (await shop.StockAsync())["525"]);
        Assert.Equal([$"Your order {orderId} could not be accepted"], await shop.MailsAboutAsync(orderId, atLeast: 1));
    }

    [Theory]
    [InlineData("""{"user_id":"u","items":[{"product_id":"999","quantity":1,"price":100}],"total_price":100}""", "items[0].product_id")]
    [InlineData("""{"user_id":"u","items":[{"product_id":"125","quantity":0,"price":100}],"total_price":0}""", "items[0].quantity")]
    [InlineData("""{"user_id":"u","items":[{"product_id":"125","quantity":-2,"price":100}],"total_price":-200}""", "items[0].quantity")]
    [InlineData("""{"user_id":"u","items":[{"product_id":"200","quantity":2,"price":200},{"product_id":"125","quantity":1,"price":100}],"total_price":400}""", "total_price")]
    [InlineData("""{"user_id":"u","items":[""", "json")]
    public async Task Bad_orders_get_a_400_naming_the_problem_and_nothing_is_published(string body, string field)
    {
        var published = await shop.EndOffsetSumAsync("orders");
        var response = await shop.WebShop.PostAsync("/api/orders", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (field == "json")
        {
            Assert.Equal("Malformed JSON", problem.RootElement.GetProperty("title").GetString());
        }
        else
        {
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out var messages), problem.RootElement.ToString());
            Assert.False(string.IsNullOrWhiteSpace(messages[0].GetString()));
        }
        Assert.Equal(published, await shop.EndOffsetSumAsync("orders"));
    }

    [Fact]
    public async Task Fifty_concurrent_orders_for_ten_in_stock_sell_exactly_ten()
    {
        var level = (await shop.StockAsync())["200"];
        if (level < 10)
        {
            (await shop.Inventory.PostAsJsonAsync("/api/stock/200/restock", new { quantity = 10 - level })).EnsureSuccessStatusCode();
        }
        else if (level > 10)
        {
            // Take the surplus with one order so that exactly ten remain.
            var id = await PlaceAcceptedAsync(Order(("200", level - 10, 200m)));
            Assert.Equal("Completed", (await shop.AwaitOrderAsync(id, ShopFixture.Finished)).Status);
        }
        Assert.Equal(10, (await shop.StockAsync())["200"]);

        var ids = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => PlaceAcceptedAsync(Order(("200", 1, 200m)))));
        var outcomes = await Task.WhenAll(ids.Select(id => shop.AwaitOrderAsync(id, ShopFixture.Finished, seconds: 120)));

        Assert.Equal(10, outcomes.Count(o => o.Status == "Completed"));
        Assert.Equal(40, outcomes.Count(o => o.Status == "Rejected"));
        Assert.Equal(0, (await shop.StockAsync())["200"]);
    }

    [Fact]
    public async Task A_poison_message_goes_to_the_dead_letter_topic_and_consumption_goes_on()
    {
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig(shop.BrokerClient())).Build())
        {
            await producer.ProduceAsync("reservations", new Message<string, string>
            {
                Key = "poison-1",
                Value = "{ this is not an order",
                Headers = new Headers { { "event-type", "ItemsOrdered"u8.ToArray() }, { "message-id", "poison-1"u8.ToArray() } },
            });
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig(shop.BrokerClient())
        {
            GroupId = "dlq-reader", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe("reservations.dlq");
        ConsumeResult<string, string>? dead = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (dead is null && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(1));
            if (result?.Message.Key == "poison-1") dead = result;
        }
        Assert.NotNull(dead);
        Assert.Equal("{ this is not an order", dead.Message.Value);
        Assert.Contains("JsonException", Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes("error")));
        Assert.Equal("reservations", Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes("original-topic")));
        Assert.Equal("1", Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes("attempts"))); // it will never parse: no retries

        // The consumers went on: a new order still completes.
        var orderId = await PlaceAcceptedAsync(Order(("035", 1, 100m)));
        Assert.Equal("Completed", (await shop.AwaitOrderAsync(orderId, ShopFixture.Finished)).Status);
    }

    private sealed record ProductSales(string ProductId, string Name, int Units, decimal Revenue);

    private sealed record SalesSummary(int OrdersPlaced, int OrdersCompleted, int OrdersRejected, decimal Revenue, List<ProductSales> TopProducts);

    [Fact]
    public async Task Sales_analytics_count_orders_revenue_and_products_sold_from_the_log()
    {
        await shop.AwaitGroupCaughtUpAsync("webshop-analytics");
        var before = (await shop.WebShop.GetFromJsonAsync<SalesSummary>("/api/analytics", ShopFixture.Json))!;
        var soldBefore = before.TopProducts.FirstOrDefault(p => p.ProductId == "200")?.Units ?? 0;

        var completed = await PlaceAcceptedAsync(Order(("200", 3, 200m)));
        var rejected = await PlaceAcceptedAsync(Order(("525", 1000, 500m)));
        Assert.Equal("Completed", (await shop.AwaitOrderAsync(completed, ShopFixture.Finished)).Status);
        Assert.Equal("Rejected", (await shop.AwaitOrderAsync(rejected, ShopFixture.Finished)).Status);
        await shop.AwaitGroupCaughtUpAsync("webshop-analytics");

        var after = (await shop.WebShop.GetFromJsonAsync<SalesSummary>("/api/analytics", ShopFixture.Json))!;
        Assert.Equal(before.OrdersPlaced + 2, after.OrdersPlaced);
        Assert.Equal(before.OrdersCompleted + 1, after.OrdersCompleted);
        Assert.Equal(before.OrdersRejected + 1, after.OrdersRejected);
        Assert.Equal(before.Revenue + 600m, after.Revenue);
        var mouse = Assert.Single(after.TopProducts, p => p.ProductId == "200");
        Assert.Equal(soldBefore + 3, mouse.Units);
        Assert.Equal("Wireless mouse", mouse.Name);
    }
}
