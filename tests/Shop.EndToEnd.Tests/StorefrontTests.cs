using Microsoft.Playwright;

namespace Shop.EndToEnd.Tests;

/// <summary>The storefront page in a real browser (Debian's chromium driven by Playwright), as a customer uses it.</summary>
public sealed class StorefrontTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    [Fact]
    public async Task A_customer_orders_in_the_storefront_and_follows_the_order_to_its_mail()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Args = ["--no-sandbox", "--disable-gpu"],
        });
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
}
