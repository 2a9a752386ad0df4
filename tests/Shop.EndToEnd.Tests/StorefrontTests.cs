using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Shop.EndToEnd.Tests;

/// <summary>The storefront page in a real browser (Debian's chromium driven by Playwright), as a customer uses it.</summary>
public sealed class StorefrontTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    [Fact]
    public async Task The_order_event_stream_sends_the_view_in_the_shape_of_GET_then_each_change_and_ends_once_final()
    {
        using var placed = await shop.PlaceAsync(new { UserId = "sse", Items = new[] { new { ProductId = "125", Quantity = 1, Price = 100 } }, TotalPrice = 100 });
        placed.EnsureSuccessStatusCode();
        var orderId = (await placed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("order_id").GetString()!;

        using var stream = await shop.WebShop.GetAsync($"/api/orders/{orderId}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        // The server ends the stream after Notified, so reading to the end is the test's clock.
        var body = await stream.Content.ReadAsStringAsync();
        var events = body.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..]).ToList();
        Assert.All(events, e => Assert.Contains("\"order_id\":", e, StringComparison.Ordinal));
        var views = events.Select(e => JsonSerializer.Deserialize<ShopFixture.OrderView>(e, ShopFixture.Json)!).ToList();
        Assert.Equal("Placed", views[0].History[0].Status);
        // Each event says something new: the history grows by at least one line each time.
        Assert.True(views.Zip(views.Skip(1)).All(p => p.Second.History.Count > p.First.History.Count), body);
        Assert.True(ShopFixture.Finished(views[^1]) && views[^1].Status == "Completed", body);
        var current = await shop.WebShop.GetFromJsonAsync<ShopFixture.OrderView>($"/api/orders/{orderId}", ShopFixture.Json);
        Assert.Equal(current!.History.Select(h => h.Status), views[^1].History.Select(h => h.Status));

        using var unknown = await shop.WebShop.GetAsync("/api/orders/no-such-order/events");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Invalid_input_gets_a_message_next_to_the_field_it_concerns()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await Browser.NewPageAsync(browser, 390);
        await page.GotoAsync(shop.WebShop.BaseAddress!.ToString());

        await page.ClickAsync("button[data-id='125']");
        await page.FillAsync("#user_id", "");
        await page.FillAsync("#quantity-125", "0");
        await page.ClickAsync("#place");

        // The server's problem-details 400 names user_id and items[0].quantity: each message sits by its field.
        await Assertions.Expect(page.Locator("#user_id-error")).ToHaveTextAsync("user_id is required.");
        await Assertions.Expect(page.Locator("#user_id")).ToHaveAttributeAsync("aria-invalid", "true");
        var line = page.Locator("#cart li", new() { HasText = "USB-C cable" });
        await Assertions.Expect(line.Locator(".field-error")).ToHaveTextAsync("Quantity must be a positive whole number, got 0.");
        await Assertions.Expect(line.Locator("input")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.Locator("#error")).ToBeEmptyAsync();
        Assert.False(await Browser.ScrollsSidewaysAsync(page), "the page scrolls sideways at 390 px");
        await Browser.ScreenshotAsync(page, "storefront-390-invalid.png");

        // Corrected, the order goes through and the messages go away.
        await page.FillAsync("#user_id", "ann");
        await page.FillAsync("#quantity-125", "2");
        await Assertions.Expect(page.Locator("#total")).ToHaveTextAsync("200");
        await page.ClickAsync("#place");
        await Assertions.Expect(page.Locator("#order-panel")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".field-error:not(:empty), #error:not(:empty)")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task The_storefront_reads_well_on_a_phone_and_on_a_desktop()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await Browser.NewPageAsync(browser, 390);
        await page.GotoAsync(shop.WebShop.BaseAddress!.ToString());

        await page.ClickAsync("button[data-id='200']");
        await page.ClickAsync("button[data-id='125']");
        await page.ClickAsync("#place");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("Notified", new() { Timeout = 60_000 });

        Assert.False(await Browser.ScrollsSidewaysAsync(page), "the page scrolls sideways at 390 px");
        // Tap targets: every button at least 44 px high.
        var buttonHeights = await page.EvaluateAsync<double[]>("() => [...document.querySelectorAll('button')].map(b => b.getBoundingClientRect().height)");
        Assert.All(buttonHeights, height => Assert.True(height >= 44, $"a button is {height} px high"));
        await Browser.ScreenshotAsync(page, "storefront-390.png");

        await page.SetViewportSizeAsync(1280, 900);
        Assert.False(await Browser.ScrollsSidewaysAsync(page), "the page scrolls sideways at 1280 px");
        await Browser.ScreenshotAsync(page, "storefront-1280.png");
    }

    [Fact]
    public async Task A_stock_level_the_shop_has_not_read_yet_shows_as_unknown_and_appears_once_known()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        // The first answer is what a shop just started gives before its stock-levels reader caught
        // up: every level unknown. Later answers come from WebShop unchanged.
        var answers = 0;
        await page.RouteAsync("**/api/products", async route =>
        {
            if (Interlocked.Increment(ref answers) > 1) { await route.ContinueAsync(); return; }
            var real = await route.FetchAsync();
            var products = System.Text.Json.Nodes.JsonNode.Parse(await real.TextAsync())!.AsArray();
            foreach (var product in products) product!["in_stock"] = null;
            await route.FulfillAsync(new() { Response = real, Body = products.ToJsonString() });
        });
        await page.GotoAsync(shop.WebShop.BaseAddress!.ToString());

        var stickers = page.Locator("#products tr", new() { HasText = "Sticker pack" });
        await Assertions.Expect(stickers.Locator("td").Nth(2)).ToHaveTextAsync("…");
        await Assertions.Expect(stickers.Locator("td").Nth(2)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+$"));
        Assert.True(answers >= 2, $"{answers} answers");
    }

    [Fact]
    public async Task The_catalogue_and_the_sales_panel_follow_other_customers_orders_without_a_reload()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(shop.WebShop.BaseAddress!.ToString());
        var monitors = page.Locator("#products tr", new() { HasText = "monitor" }).Locator("td").Nth(2);
        await Assertions.Expect(monitors).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+$"));
        var stockBefore = int.Parse((await monitors.TextContentAsync())!);
        var salesBefore = await page.Locator("#sales").TextContentAsync();

        // Someone else's order, placed over the API while the page stays open.
        var orderId = await shop.PlaceAcceptedAsync(ShopFixture.Order(("525", 1, 500)));
        await shop.AwaitOrderAsync(orderId, ShopFixture.Finished);

        await Assertions.Expect(monitors).ToHaveTextAsync($"{stockBefore - 1}", new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("#sales")).Not.ToHaveTextAsync(salesBefore!, new() { Timeout = 15_000 });
    }

    [Fact]
    public async Task A_customer_orders_in_the_storefront_and_follows_the_order_to_its_mail()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var requests = new System.Collections.Concurrent.ConcurrentQueue<IRequest>();
        page.Request += (_, request) => requests.Enqueue(request);
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
        await Assertions.Expect(page.Locator("#order-status")).ToHaveTextAsync("Completed");
        await Assertions.Expect(page.Locator("#error")).ToBeEmptyAsync();
        // The sales panel, built by WebShop's analytics consumer group, counts it.
        await Assertions.Expect(page.Locator("#top")).ToContainTextAsync("Sticker pack", new() { Timeout = 30_000 });
        // Pushed, not polled: the only request about the order after placing it is its one event
        // stream, which the page closes once the order is final (else EventSource would reconnect).
        var orderId = await page.Locator("#order-id").TextContentAsync();
        var aboutTheOrder = requests.Select(r => $"{r.Method} {new Uri(r.Url).AbsolutePath}").Where(r => r.Contains("/api/orders", StringComparison.Ordinal)).ToList();
        Assert.Equal(["POST /api/orders", $"GET /api/orders/{orderId}/events"], aboutTheOrder);
        Assert.Equal("eventsource", requests.Single(r => r.Url.EndsWith("/events", StringComparison.Ordinal)).ResourceType);
    }
}
