using System.Net;
using System.Net.Http.Json;

namespace Shop.EndToEnd.Tests;

/// <summary>
/// A service (or the broker) stopped while customers keep ordering: nothing is lost, nothing is done
/// twice. What a message broker is for.
/// </summary>
public sealed class ResilienceTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private sealed record Accepted(string OrderId);

    private async Task<List<string>> PlaceAsync(int count, string product, decimal price)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var response = await shop.PlaceAsync(new
            {
                user_id = $"resilient-{i}",
                items = new[] { new { product_id = product, quantity = 1, price } },
                total_price = price,
            });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.Add((await response.Content.ReadFromJsonAsync<Accepted>(ShopFixture.Json))!.OrderId);
        }
        return ids;
    }

    private async Task AssertEachCompletedOnceWithOneMailAsync(IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            var view = await shop.AwaitOrderAsync(id, ShopFixture.Finished, seconds: 120);
            Assert.Equal("Completed", view.Status);
            Assert.Single(view.History, h => h.Status == "Completed");
            Assert.Equal([$"Your order {id} is confirmed"], await shop.MailsAboutAsync(id, atLeast: 1));
        }
    }

    [Fact]
    public async Task Orders_placed_while_the_Orders_service_is_stopped_complete_once_it_is_back()
    {
        var before = (await shop.StockAsync())["035"];
        await shop.StopAsync("orders");
        var ids = await PlaceAsync(5, "035", 100m);
        // Accepted and kept in the log, but nobody runs the saga.
        foreach (var id in ids) Assert.Equal("Placed", (await shop.AwaitOrderAsync(id, _ => true)).Status);

        await shop.StartAsync("orders");
        await AssertEachCompletedOnceWithOneMailAsync(ids);
        Assert.Equal(before - 5, (await shop.StockAsync())["035"]);
    }

    [Fact]
    public async Task Mails_of_orders_completed_while_Notifications_is_stopped_go_out_once_it_is_back()
    {
        await shop.StopAsync("notifications");
        var ids = await PlaceAsync(3, "125", 100m);
        foreach (var id in ids)
        {
            Assert.Equal("Completed", (await shop.AwaitOrderAsync(id, v => v.Status == "Completed")).Status);
            Assert.Empty(await shop.MailsAboutAsync(id));
        }

        await shop.StartAsync("notifications");
        await AssertEachCompletedOnceWithOneMailAsync(ids);
    }

    [Fact]
    public async Task Mails_go_out_after_the_mail_catcher_restarts_under_the_senders_kept_connections()
    {
        // A mail first, so that the sender holds a connection to the catcher that the restart will break.
        await AssertEachCompletedOnceWithOneMailAsync(await PlaceAsync(1, "200", 200m));
        await shop.StopAsync("mail");
        await shop.StartAsync("mail");

        await AssertEachCompletedOnceWithOneMailAsync(await PlaceAsync(3, "200", 200m));
    }

    [Fact]
    public async Task The_services_reconnect_when_the_broker_comes_back()
    {
        await shop.StopAsync("broker");
        // WebShop accepts orders even now: they wait in its outbox.
        var ids = await PlaceAsync(3, "535", 300m);
        await shop.StartAsync("broker");
        await AssertEachCompletedOnceWithOneMailAsync(ids);
    }
}
