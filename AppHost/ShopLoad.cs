using System.Net.Http.Json;

namespace Shop.AppHost;

/// <summary>
/// The dashboard's "Start load": valid orders of random products posted to the storefront's API at
/// a steady rate until "Stop load" (or the AppHost stops). One at a time per tick, so the rate
/// is what the shop receives, not what a burst would look like.
/// </summary>
public sealed class ShopLoad : IDisposable
{
    private static readonly (string ProductId, decimal Price)[] Products = [("535", 300), ("125", 100), ("200", 200), ("525", 500), ("035", 100)];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private CancellationTokenSource? _running;

    public bool IsRunning => _running is not null;

    public long Placed => Interlocked.Read(ref _placed);
    private long _placed;

    public long Refused => Interlocked.Read(ref _refused);
    private long _refused;

    public void Start(Uri storefront, double ordersPerSecond, Action<string> log)
    {
        Stop();
        var running = new CancellationTokenSource();
        _running = running;
        _ = RunAsync(storefront, ordersPerSecond, log, running.Token);
    }

    public void Stop()
    {
        var running = Interlocked.Exchange(ref _running, null);
        running?.Cancel();
        running?.Dispose();
    }

    private async Task RunAsync(Uri storefront, double ordersPerSecond, Action<string> log, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / ordersPerSecond));
        var sent = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var (productId, price) = Products[Random.Shared.Next(Products.Length)];
                var quantity = Random.Shared.Next(1, 3);
                var order = new { user_id = $"load-{Random.Shared.Next(1000):D3}", items = new[] { new { product_id = productId, quantity, price } }, total_price = price * quantity };
                try
                {
                    using var response = await _http.PostAsJsonAsync(new Uri(storefront, "/api/orders"), order, cancellationToken);
                    Interlocked.Increment(ref response.IsSuccessStatusCode ? ref _placed : ref _refused);
                }
                catch (HttpRequestException ex)
                {
                    Interlocked.Increment(ref _refused);
                    log($"load: the storefront did not answer ({ex.Message})");
                }
                if (++sent % 100 == 0) log($"load: {Placed} orders placed, {Refused} refused");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        Stop();
        _http.Dispose();
    }
}
