using Aspire.Hosting;
using Aspire.Hosting.Testing;

namespace Shop.EndToEnd.Tests;

public sealed class AppHostStartupTests
{
    private static readonly string[] Resources = ["broker", "orders", "inventory", "notifications", "webshop", "mail"];

    [Fact]
    public async Task Every_resource_becomes_healthy_and_the_app_stops_cleanly()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var dataDir = Directory.CreateTempSubdirectory("shop-e2e-");
        try
        {
            var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
                ["--Shop:RandomPorts=true", $"--Shop:DataDir={dataDir.FullName}"], timeout.Token);
            await using var app = await appHost.BuildAsync(timeout.Token);
            await app.StartAsync(timeout.Token);

            await Task.WhenAll(Resources.Select(r => app.ResourceNotifications.WaitForResourceHealthyAsync(r, timeout.Token)));

            using var storefront = app.CreateHttpClient("webshop");
            var page = await storefront.GetStringAsync("/", timeout.Token);
            Assert.Contains("Shop on a log", page);

            await app.StopAsync(timeout.Token);
        }
        finally
        {
            dataDir.Delete(recursive: true);
        }
    }
}
