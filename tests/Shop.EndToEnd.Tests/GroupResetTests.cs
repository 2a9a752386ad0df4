using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Shop.AppHost;
using Shop.Testing;

namespace Shop.EndToEnd.Tests;

/// <summary>
/// The dashboard's "Reset a group to earliest" on the Orders service's group: refused while Orders
/// runs, as Kafka refuses; once Orders is stopped it succeeds, and Orders, restarted, reads its
/// whole log again and changes nothing, because its inbox remembers every message it handled.
/// </summary>
public sealed class GroupResetTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private async Task<ExecuteCommandResult> ResetOrdersAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var group = new InteractionInputCollection([new InteractionInput { Name = "group", InputType = InputType.Choice, Value = "orders" }]);
        return await shop.App.ResourceCommands.ExecuteCommandAsync("broker", ShopCommands.ResetGroup, group, timeout.Token);
    }

    private async Task<JsonElement> GroupAsync(string groupId) => await shop.BrokerConsole.GetFromJsonAsync<JsonElement>($"/api/groups/{groupId}");

    private async Task<(Dictionary<string, int> Stock, long Orders, long Inventory, long Notifications, int Mails)> ShopStateAsync(IEnumerable<string> orderIds)
    {
        var mails = 0;
        foreach (var id in orderIds) mails += (await shop.MailsAboutAsync(id)).Count;
        return (await shop.StockAsync(), await shop.EndOffsetSumAsync("orders"), await shop.EndOffsetSumAsync("inventory"),
            await shop.EndOffsetSumAsync("notifications"), mails);
    }

    [Fact]
    public async Task Orders_is_reset_to_earliest_only_when_stopped_then_rereads_everything_and_changes_nothing()
    {
        var orderIds = new List<string>();
        foreach (var (product, price) in new[] { ("535", 300m), ("125", 100m), ("035", 100m) })
            orderIds.Add(await shop.PlaceAcceptedAsync(ShopFixture.Order((product, 2, price))));
        foreach (var id in orderIds) await shop.AwaitOrderAsync(id, ShopFixture.Finished);
        await shop.AwaitGroupCaughtUpAsync("orders");
        var before = await ShopStateAsync(orderIds);
        Assert.Equal(orderIds.Count, before.Mails);

        var refused = await ResetOrdersAsync();
        Assert.False(refused.Success, "the reset went through while Orders was running");
        Assert.Contains("Group 'orders' has members (orders on ", refused.Message);
        Assert.Contains("Stop its consumers first.", refused.Message);

        await shop.StopAsync("orders");
        await Eventually.GetAsync(async () => (await GroupAsync("orders")).GetProperty("state").GetString(), state => state == "Empty",
            state => $"the stopped Orders service never left its group (state {state})");
        var reset = await ResetOrdersAsync();
        Assert.True(reset.Success, reset.Message);
        var group = await GroupAsync("orders");
        Assert.All(group.GetProperty("offsets").EnumerateArray(), p =>
            Assert.Equal(p.GetProperty("log_start_offset").GetInt64(), p.GetProperty("committed_offset").GetInt64()));
        var lag = group.GetProperty("total_lag").GetInt64();
        Assert.True(lag >= before.Orders, $"after the reset the group is only {lag} behind");
        Assert.Contains($"lag now {lag}", reset.Message);

        await shop.StartAsync("orders");
        await shop.AwaitGroupCaughtUpAsync("orders");
        // Everything read again, nothing done twice: no event published again, no stock moved, no mail sent.
        await shop.AwaitGroupCaughtUpAsync("inventory");
        await shop.AwaitGroupCaughtUpAsync("notifications");
        var after = await ShopStateAsync(orderIds);
        Assert.Equal(before.Stock, after.Stock);
        Assert.Equal((before.Orders, before.Inventory, before.Notifications), (after.Orders, after.Inventory, after.Notifications));
        Assert.Equal(before.Mails, after.Mails);
        foreach (var id in orderIds)
        {
            var view = await shop.AwaitOrderAsync(id, ShopFixture.Finished);
            Assert.Single(view.History, h => h.Status == "Completed");
        }
    }
}
