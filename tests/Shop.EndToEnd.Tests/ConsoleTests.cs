using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Shop.EndToEnd.Tests;

/// <summary>
/// The broker console in a real browser against the real AppHost, signed in as the broker's admin:
/// an order found in its topic by key with its JSON and headers, its trace followed, a message
/// produced and seen in the live tail, the shop's groups with their lag.
/// </summary>
public sealed class ConsoleTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private Task<IPage> OpenAsync(IBrowser browser, int width = 1280) =>
        Browser.NewPageAsync(browser, width, new HttpCredentials { Username = "admin", Password = shop.Password("admin") });

    private string Console(string route) => new Uri(shop.BrokerConsole.BaseAddress!, "/#/" + route).ToString();

    [Fact]
    public async Task An_order_is_found_in_its_topic_by_key_with_its_json_value_headers_and_trace()
    {
        var orderId = await shop.PlaceAcceptedAsync(ShopFixture.Order(("125", 1, 100m)));
        await shop.AwaitOrderAsync(orderId, ShopFixture.Finished);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await OpenAsync(browser);
        await page.GotoAsync(Console("topics/orders"));
        await page.SelectOptionAsync("#browse select[name=from]", "oldest");
        await page.FillAsync("#browse input[name=filter]", orderId);
        await page.ClickAsync("#browse button.primary");

        // Every event of the order is keyed by its id; the first is the storefront's OrderPlaced.
        var placed = page.Locator($"article.message[data-key='{orderId}']", new() { HasText = "OrderPlaced" });
        await Assertions.Expect(placed).ToHaveCountAsync(1);
        await Assertions.Expect(placed.Locator("pre.value")).ToHaveAttributeAsync("data-format", "json");
        await Assertions.Expect(placed.Locator("pre.value")).ToContainTextAsync($"\"order_id\": \"{orderId}\"");
        await Assertions.Expect(placed.Locator("pre.value")).ToContainTextAsync("\"total_price\": 100");
        await Assertions.Expect(placed.Locator("table.headers")).ToContainTextAsync("message-id");
        await Assertions.Expect(placed.Locator("table.headers")).ToContainTextAsync("traceparent");

        // The trace link carries the trace id of the message's traceparent.
        var traceparent = await placed.Locator("table.headers tr", new() { HasText = "traceparent" }).Locator("td").InnerTextAsync();
        var traceId = traceparent.Split('-')[1];
        var dashboardLink = placed.Locator("a.trace-link");
        await Assertions.Expect(dashboardLink).ToHaveAttributeAsync("href", new Regex($"/traces/detail/{traceId}$"));
        await Browser.ScreenshotAsync(page, "console-topic-1280.png");

        // Following it in the console: every message of that trace, across topics.
        await placed.GetByText("all messages of this trace").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"#/traces/{traceId}$"));
        var ofTrace = page.Locator("#messages article.message");
        await Assertions.Expect(ofTrace.Filter(new() { HasText = "ItemsOrdered" })).ToHaveCountAsync(1);
        await Assertions.Expect(ofTrace.Filter(new() { HasText = "StockReserved" })).ToHaveCountAsync(1);
        await Assertions.Expect(ofTrace.Filter(new() { HasText = "OrderCompleted" })).ToHaveCountAsync(1);
        await Assertions.Expect(ofTrace.Filter(new() { HasText = "NotificationSent" })).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task A_topic_made_in_the_console_receives_a_produced_message_that_arrives_in_the_live_tail()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await OpenAsync(browser);
        await page.GotoAsync(Console("topics"));
        await page.FillAsync("#create-topic input[name=name]", "console-demo");
        await page.FillAsync("#create-topic input[name=partitions]", "3");
        await page.ClickAsync("#create-topic button");
        await page.ClickAsync("#confirm-ok");
        await Assertions.Expect(page.Locator("#topics tr[data-topic='console-demo']")).ToContainTextAsync("3");

        await page.ClickAsync("#topics a:text-is('console-demo')");
        await page.ClickAsync("#tail");
        await Assertions.Expect(page.Locator("#tail-waiting")).ToBeVisibleAsync();
        await page.FillAsync("#produce input[name=key]", "hello-key");
        await page.FillAsync("#produce textarea[name=headers]", "event-type: Greeting");
        await page.FillAsync("#produce textarea[name=value]", """{"greeting": "привет", "n": 1}""");
        await page.ClickAsync("#produce button");

        var arrived = page.Locator("#messages article.message[data-key='hello-key']");
        await Assertions.Expect(arrived).ToHaveCountAsync(1);
        await Assertions.Expect(arrived.Locator("pre.value")).ToContainTextAsync("\"greeting\": \"привет\"");
        await Assertions.Expect(arrived.Locator("table.headers")).ToContainTextAsync("Greeting");
        await Assertions.Expect(page.Locator("#toast")).ToContainTextAsync("Produced to console-demo/");

        // Bad input is refused with the reason, and nothing is sent.
        await page.FillAsync("#produce textarea[name=value]", "{not json");
        await page.ClickAsync("#produce button");
        await Assertions.Expect(page.Locator("#toast")).ToContainTextAsync("Not sent");
        await Assertions.Expect(arrived).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#messages article.message")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task The_shops_topics_and_groups_with_their_lag_read_well_on_a_phone_and_a_desktop()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        foreach (var width in new[] { 390, 1280 })
        {
            var page = await OpenAsync(browser, width);
            await page.GotoAsync(Console("topics"));
            // stock-levels is compacted; every topic has its dead-letter twin.
            await Assertions.Expect(page.Locator("#topics tr[data-topic='stock-levels']")).ToContainTextAsync("cleanup.policy=compact");
            await Assertions.Expect(page.Locator("#topics tr[data-topic='orders.dlq']")).ToHaveCountAsync(1);
            await Assertions.Expect(page.Locator("#who")).ToContainTextAsync("User:admin");
            await Browser.ScreenshotAsync(page, $"console-topics-{width}.png");

            await page.GotoAsync(Console("groups"));
            foreach (var group in new[] { "orders", "inventory", "notifications", "webshop", "webshop-analytics" })
                await Assertions.Expect(page.Locator($"#groups tr[data-group='{group}']")).ToContainTextAsync("Stable", new() { Timeout = 30_000 });
            await Browser.ScreenshotAsync(page, $"console-groups-{width}.png");

            await page.GotoAsync(Console("groups/orders"));
            await Assertions.Expect(page.Locator("#members")).ToContainTextAsync("orders/");
            await Assertions.Expect(page.Locator("#offsets")).ToContainTextAsync("inventory");
            await Browser.ScreenshotAsync(page, $"console-group-{width}.png");

            await page.GotoAsync(Console("dead-letters"));
            await Assertions.Expect(page.Locator("section[data-dead-letters='orders.dlq']")).ToHaveCountAsync(1);
            await Browser.ScreenshotAsync(page, $"console-dead-letters-{width}.png");
            await page.CloseAsync();
        }
    }
}
