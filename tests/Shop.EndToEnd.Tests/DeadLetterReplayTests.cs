using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Shop.Testing;

namespace Shop.EndToEnd.Tests;

/// <summary>The shop with an Orders service that gives up on a locked database after one second instead of thirty.</summary>
public sealed class ImpatientOrdersFixture : ShopFixture
{
    protected override Task ConfigureAsync(IDistributedApplicationTestingBuilder builder)
    {
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "orders"))
            .WithEnvironment("Shop__Database__BusyTimeoutSeconds", "1");
        return Task.CompletedTask;
    }
}

/// <summary>
/// A message that fails for a reason outside it: Orders' database is locked (a maintenance job
/// holds its write lock), so the order's OrderPlaced fails every try and goes to orders.dlq. The
/// console shows it with its error; once the lock is gone, Replay brings it back and the order
/// completes, exactly once even when replayed twice.
/// </summary>
public sealed class DeadLetterReplayTests(ImpatientOrdersFixture shop) : IClassFixture<ImpatientOrdersFixture>
{
    [Fact]
    public async Task A_dead_letter_shown_with_its_error_is_replayed_after_the_cause_is_gone_and_the_order_completes_exactly_once()
    {
        var before = await shop.StockAsync();
        string orderId;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await Browser.NewPageAsync(browser, 1280, new HttpCredentials { Username = "admin", Password = shop.Password("admin") });
        var letter = default(ILocator)!;

        await using (await LockOrdersDatabaseAsync())
        {
            // A product the other test here does not order: its dead-lettered order can still be
            // redelivered and complete later (at least once: the group's offset past it may not have
            // been committed when the broker stopped), which must not move this test's stock.
            orderId = await shop.PlaceAcceptedAsync(ShopFixture.Order(("035", 2, 100m)));

            await page.GotoAsync(new Uri(shop.BrokerConsole.BaseAddress!, "/#/dead-letters").ToString());
            letter = page.Locator($"section[data-dead-letters='orders.dlq'] article[data-key='{orderId}']");
            // The dead-letter list refreshes itself; the letter names its error and origin.
            await Assertions.Expect(letter).ToHaveCountAsync(1, new() { Timeout = 60_000 });
            await Assertions.Expect(letter.Locator(".error")).ToContainTextAsync("database is locked");
            await Assertions.Expect(letter.Locator(".error")).ToContainTextAsync("from orders/");
            Assert.Equal("Placed", (await shop.AwaitOrderAsync(orderId, _ => true)).Status);
            // The maintenance job ends: the cause is gone.
        }

        await letter.Locator("button.replay-one").ClickAsync();
        await page.ClickAsync("#confirm-ok");
        await Assertions.Expect(page.Locator("#toast")).ToContainTextAsync("Replayed to orders/");
        var view = await shop.AwaitOrderAsync(orderId, ShopFixture.Finished);
        Assert.Equal("Completed", view.Status);

        // A second replay of the same letter changes nothing: Orders' inbox knows its message id.
        await page.GotoAsync(new Uri(shop.BrokerConsole.BaseAddress!, "/#/dead-letters").ToString());
        await letter.Locator("button.replay-one").ClickAsync();
        await page.ClickAsync("#confirm-ok");
        await Assertions.Expect(page.Locator("#toast")).ToContainTextAsync("Replayed to orders/");
        await shop.AwaitGroupCaughtUpAsync("orders");
        await shop.AwaitGroupCaughtUpAsync("notifications");

        view = await shop.AwaitOrderAsync(orderId, ShopFixture.Finished);
        Assert.Single(view.History, h => h.Status == "Completed");
        Assert.Single(await shop.MailsAboutAsync(orderId, atLeast: 1));
        Assert.Equal(before["035"] - 2, (await shop.StockAsync())["035"]);
    }

    /// <summary>
    /// Issue 16: the message keeps failing while the broker is stopped, so its dead-letter produce
    /// finds no broker. Orders keeps running, and the letter reaches orders.dlq once the broker is back.
    /// </summary>
    [Fact]
    public async Task A_dead_letter_sent_while_the_broker_is_stopped_arrives_once_it_is_back_and_Orders_keeps_running()
    {
        using var watching = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        string orderId;
        await using (await LockOrdersDatabaseAsync())
        {
            orderId = await shop.PlaceAcceptedAsync(ShopFixture.Order(("125", 1, 100m)));
            // Orders has the message and is retrying it: now the broker goes away.
            await OrdersLogAsync($"(key {orderId}) failed on attempt 1", watching.Token);
            await shop.StopAsync("broker");
            await OrdersLogAsync($"(key {orderId}) keeps failing: moved to orders.dlq", watching.Token);
        }
        Assert.True(shop.App.ResourceNotifications.TryGetCurrentState("orders", out var orders));
        Assert.Equal(KnownResourceStates.Running, orders.Snapshot.State?.Text);

        await shop.StartAsync("broker");
        await Eventually.TrueAsync(async () => (await shop.BrokerConsole.GetStringAsync("/api/dead-letters")).Contains(orderId, StringComparison.Ordinal),
            $"the dead letter of order {orderId} reached orders.dlq");
        // The same Orders process still handles orders.
        Assert.True(shop.App.ResourceNotifications.TryGetCurrentState("orders", out orders));
        Assert.Equal(KnownResourceStates.Running, orders.Snapshot.State?.Text);
        var next = await shop.PlaceAcceptedAsync(ShopFixture.Order(("125", 1, 100m)));
        Assert.Equal("Completed", (await shop.AwaitOrderAsync(next, ShopFixture.Finished, seconds: 90)).Status);
    }

    /// <summary>Waits for a line of Orders' log (Aspire keeps each resource's console output).</summary>
    private async Task OrdersLogAsync(string text, CancellationToken cancellationToken)
    {
        var logs = shop.App.Services.GetRequiredService<ResourceLoggerService>();
        // Logs are kept per running instance (its resource id, "orders-<suffix>"), not per name.
        Assert.True(shop.App.ResourceNotifications.TryGetCurrentState("orders", out var orders));
        await foreach (var batch in logs.WatchAsync(orders.ResourceId).WithCancellation(cancellationToken))
        {
            if (batch.Any(line => line.Content.Contains(text, StringComparison.Ordinal))) return;
        }
    }

    /// <summary>A maintenance job's write lock on Orders' database, held until disposed: Orders' writes fail with "database is locked".</summary>
    private async Task<SqliteConnection> LockOrdersDatabaseAsync()
    {
        var maintenance = new SqliteConnection($"Data Source={Path.Combine(shop.DataDir, "orders", "orders.db")};Pooling=False");
        await maintenance.OpenAsync();
        await using var lockWrites = maintenance.CreateCommand();
        lockWrites.CommandText = "BEGIN IMMEDIATE";
        await lockWrites.ExecuteNonQueryAsync();
        return maintenance;
    }
}
