using Microsoft.Playwright;

namespace Shop.EndToEnd.Tests;

/// <summary>Debian's chromium (installed by test.sh) driven by Playwright, and the screenshots the docs show.</summary>
public static class Browser
{
    /// <summary>Not a browser Playwright would download: the machine's own.</summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium",
        Args = ["--no-sandbox", "--disable-gpu"],
    });

    /// <summary>Where the screenshots go when asked (SHOP_SCREENSHOTS_DIR=docs/images); none otherwise.</summary>
    private static readonly string? ScreenshotsDir = Environment.GetEnvironmentVariable("SHOP_SCREENSHOTS_DIR");

    public static Task<IPage> NewPageAsync(IBrowser browser, int width, HttpCredentials? credentials = null) =>
        browser.NewPageAsync(new() { ViewportSize = new() { Width = width, Height = 900 }, HttpCredentials = credentials });

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        if (ScreenshotsDir is null) return;
        Directory.CreateDirectory(ScreenshotsDir);
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotsDir, name), FullPage = true });
    }

    public static Task<bool> ScrollsSidewaysAsync(IPage page) =>
        page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > document.documentElement.clientWidth");
}
