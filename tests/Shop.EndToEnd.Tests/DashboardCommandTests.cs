using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Confluent.Kafka;
using Shop.AppHost;
using Shop.Testing;

namespace Shop.EndToEnd.Tests;

/// <summary>The AppHost's dashboard commands, run as the dashboard runs them (through the resource command service), each with the effect it names.</summary>
public sealed class DashboardCommandTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private async Task<ExecuteCommandResult> RunAsync(string resource, string command, params (string Name, string Value)[] arguments)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        if (arguments.Length == 0) return await shop.App.ResourceCommands.ExecuteCommandAsync(resource, command, timeout.Token);
        var inputs = new InteractionInputCollection(arguments.Select(a => new InteractionInput { Name = a.Name, InputType = InputType.Text, Value = a.Value }).ToList());
        return await shop.App.ResourceCommands.ExecuteCommandAsync(resource, command, inputs, timeout.Token);
    }

    private static ExecuteCommandResult Succeeded(ExecuteCommandResult result)
    {
        Assert.True(result.Success, $"the command failed: {result.Message}");
        return result;
    }

    [Fact]
    public async Task The_seeds_orders_give_three_completed_and_the_scenario_order_refused_for_its_wrong_total()
    {
        // Other tests of this class may have sold monitors; the seed's orders need three.
        Succeeded(await RunAsync("inventory", ShopCommands.RestockAll));
        var result = Succeeded(await RunAsync("webshop", ShopCommands.PlaceSeedOrders));
        Assert.StartsWith("3 placed, 1 refused.", result.Message);
        Assert.Contains("12345: **refused**: total_price 400 does not match the items, which come to 500.", result.Message);

        using var data = JsonDocument.Parse(result.Data!.Value);
        var refused = Assert.Single(data.RootElement.GetProperty("refused").EnumerateArray());
        Assert.Equal("12345", refused.GetProperty("seed_id").GetString());
        Assert.Equal(400, refused.GetProperty("status").GetInt32());
        var placed = data.RootElement.GetProperty("placed").EnumerateArray().ToList();
        Assert.Equal(["0001", "0002", "0003"], placed.Select(p => p.GetProperty("seed_id").GetString()));
        foreach (var order in placed)
        {
            var view = await shop.AwaitOrderAsync(order.GetProperty("order_id").GetString()!, ShopFixture.Finished);
            Assert.Equal("Completed", view.Status);
        }
    }

    [Fact]
    public async Task Restock_all_brings_every_product_back_to_its_initial_stock()
    {
        var before = (await shop.StockAsync())["200"];
        var orderId = await shop.PlaceAcceptedAsync(ShopFixture.Order(("200", 3, 200m)));
        await shop.AwaitOrderAsync(orderId, v => v.Status == "Completed");
        Assert.Equal(before - 3, (await shop.StockAsync())["200"]);

        Succeeded(await RunAsync("inventory", ShopCommands.RestockAll));
        var stock = await shop.StockAsync();
        Assert.Equal(40, stock["200"]);
        Assert.Equal(500, stock["035"]);
        Assert.Equal(10, stock["525"]);
    }

    [Fact]
    public async Task Load_runs_at_the_given_rate_until_stopped()
    {
        var before = await PlacedSoFarAsync();
        var started = Succeeded(await RunAsync("webshop", ShopCommands.StartLoad, ("rate", "20")));
        Assert.Equal("Placing 20 orders per second until \"Stop load\".", started.Message);
        await Eventually.TrueAsync(async () => await PlacedSoFarAsync() >= before + 20, "the load placed 20 orders");
        var stopped = Succeeded(await RunAsync("webshop", ShopCommands.StopLoad));
        Assert.Matches(@"^Load stopped: \d+ orders placed, 0 refused\.$", stopped.Message);
        Assert.Equal("No load was running.", Succeeded(await RunAsync("webshop", ShopCommands.StopLoad)).Message);
        // Every order the load placed gets an outcome (so the other tests see a quiet shop).
        await Eventually.GetAsync(UnfinishedAsync, unfinished => unfinished == 0, unfinished => $"{unfinished} orders of the load never finished");

        var refused = await RunAsync("webshop", ShopCommands.StartLoad, ("rate", "-1"));
        Assert.False(refused.Success);
        Assert.Contains("between 0 and 1000", refused.Message);
    }

    private async Task<int> UnfinishedAsync()
    {
        using var summary = JsonDocument.Parse(await shop.WebShop.GetStringAsync("/api/analytics"));
        var root = summary.RootElement;
        return root.GetProperty("orders_placed").GetInt32() - root.GetProperty("orders_completed").GetInt32() - root.GetProperty("orders_rejected").GetInt32();
    }

    private async Task<int> PlacedSoFarAsync()
    {
        using var summary = JsonDocument.Parse(await shop.WebShop.GetStringAsync("/api/analytics"));
        return summary.RootElement.GetProperty("orders_placed").GetInt32();
    }

    [Fact]
    public async Task Replay_dead_letters_sends_every_waiting_letter_back_to_its_topic()
    {
        // A message no consumer can parse: each group that handles OrderPlaced dead-letters it.
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig(shop.BrokerClient()) { Acks = Acks.All }).Build())
        {
            var poison = new Message<string, byte[]> { Key = "poison-1", Value = Encoding.UTF8.GetBytes("{not json"), Headers = [] };
            poison.Headers.Add("event-type", Encoding.UTF8.GetBytes("OrderPlaced"));
            poison.Headers.Add("message-id", Encoding.UTF8.GetBytes("poison-message-1"));
            await producer.ProduceAsync("orders", poison);
        }
        var waiting = await AwaitDeadLettersAsync(count => count > 0);

        var result = Succeeded(await RunAsync("broker", ShopCommands.ReplayDeadLetters));
        Assert.Equal($"Replayed {waiting} from orders.dlq.", result.Message);
        var replayed = await shop.BrokerConsole.GetFromJsonAsync<JsonElement>("/api/topics/orders/messages?from=oldest&filter=replayed-by");
        var again = replayed.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(waiting, again.Count);
        Assert.All(again, m => Assert.Equal("poison-1", m.GetProperty("key").GetString()));
    }

    /// <summary>How many letters of orders.dlq are waiting for replay, once <paramref name="until"/> holds.</summary>
    private async Task<int> AwaitDeadLettersAsync(Func<int, bool> until)
    {
        // Every consumer group that parses OrderPlaced (Orders, the sales analytics) dead-letters it once.
        return await Eventually.GetAsync(async () =>
            {
                var topics = await shop.BrokerConsole.GetFromJsonAsync<JsonElement>("/api/dead-letters");
                return topics.EnumerateArray().Where(t => t.GetProperty("topic").GetString() == "orders.dlq").Sum(t => t.GetProperty("pending").GetInt32());
            },
            pending => until(pending) && pending >= 2, pending => $"orders.dlq has {pending} letters waiting");
    }

    [Fact]
    public async Task Open_console_at_a_trace_links_to_every_message_of_that_trace()
    {
        var orderId = await shop.PlaceAcceptedAsync(ShopFixture.Order(("035", 1, 100m)));
        await shop.AwaitOrderAsync(orderId, ShopFixture.Finished);
        var page = await shop.BrokerConsole.GetFromJsonAsync<JsonElement>($"/api/topics/orders/messages?from=oldest&filter={orderId}");
        var traceId = page.GetProperty("messages")[0].GetProperty("trace_id").GetString()!;

        var result = Succeeded(await RunAsync("broker", ShopCommands.OpenConsoleAtTrace, ("trace", traceId)));
        Assert.Equal(CommandResultFormat.Markdown, result.Data!.Format);
        var url = new Uri(shop.BrokerConsole.BaseAddress!, $"/#/traces/{traceId}");
        Assert.Contains($"]({url})", result.Data.Value);
        var messages = (await shop.BrokerConsole.GetFromJsonAsync<JsonElement>($"/api/traces/{traceId}")).GetProperty("messages");
        Assert.True(messages.GetArrayLength() >= 5, $"the trace has {messages.GetArrayLength()} messages");

        var refused = await RunAsync("broker", ShopCommands.OpenConsoleAtTrace, ("trace", "not-a-trace"));
        Assert.False(refused.Success);
        Assert.Contains("32 hex digits", refused.Message);
    }
}
