using Microsoft.Playwright;

namespace Shop.EndToEnd.Tests;

/// <summary>The storefront page in a real browser (Debian's chromium driven by Playwright), as a customer uses it.</summary>
public sealed class StorefrontTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    /// <summary>Debian's chromium (installed by test.sh), not a browser Playwright would download.</summary>
    private static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium",
        Args = ["--no-sandbox", "--disable-gpu"],
    });

    [Fact]
    public async Task A_customer_orders_in_the_storefront_and_follows_the_order_to_its_mail()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(shop.WebShop.BaseAddress!.ToString());

        // The catalogue shows each product with its stock, read from the stock-levels topic.
        var stickers = page.Locator("#products tr", new() { HasText = "Sticker pack" });
        await Assertions.Expect(stickers).ToContainTextAsync("100");
        await Assertions.Expect(stickers.Locator("td").Nth(2)).Not.ToHaveTextAsync("…");

        await page.ClickAsync("button[data-id='035']");
        await page.ClickAsync("button[data-id='035']");
        await Assertions.Expect(page.Locator("#total")).ToHaveTextAsync("200");
        await page.ClickAsync("#place");

        // The page follows the order through every service, to the mail.
        var status = page.Locator("#status");
        await Assertions.Expect(status).ToContainTextAsync("Notified", new() { Timeout = 60_000 });
        await Assertions.Expect(status).ToContainTextAsync("Completed");
        await Assertions.Expect(page.Locator("#error")).ToBeEmptyAsync();
        // The sales panel, built by WebShop's analytics consumer group, counts it.
        await Assertions.Expect(page.Locator("#top")).ToContainTextAsync("Sticker pack", new() { Timeout = 30_000 });
    }

    [Fact]
    public async Task The_broker_console_shows_the_shops_topics_and_its_consumer_groups_with_their_lag()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(shop.BrokerConsole.BaseAddress!.ToString());

        var topics = page.Locator("#topics tbody");
        // stock-levels is compacted (one partition), its dead-letter twin is not.
        await Assertions.Expect(topics.Locator("tr", new() { HasText = "cleanup.policy=compact" }).Filter(new() { HasText = "stock-levels" }))
            .ToHaveCountAsync(1);
        await Assertions.Expect(topics.Locator("tr", new() { HasText = "orders.dlq" })).ToHaveCountAsync(1);
        // Every service's group, with the partitions it reads and how far behind it is.
        var groups = page.Locator("#groups tbody");
        foreach (var group in new[] { "orders", "inventory", "notifications", "webshop", "webshop-analytics" })
        {
            var firstCell = page.Locator("td:first-child", new() { HasTextRegex = new System.Text.RegularExpressions.Regex($"^{group}$") });
            await Assertions.Expect(groups.Locator("tr", new() { Has = firstCell }).First).ToContainTextAsync("Stable", new() { Timeout = 30_000 });
        }
    }
}
