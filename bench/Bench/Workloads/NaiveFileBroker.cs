using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Shop.Bench.Workloads;

/// <summary>
/// The seed's naive file broker, as the lower reference: the producer opens the file, appends one
/// JSON line and closes it for every order; the consumer re-reads the whole file and decodes each
/// line. No durability (no fsync), no offsets, no concurrency control.
/// </summary>
public sealed class NaiveFileBroker : IWorkload
{
    public string Name => "naive";

    public string Description => "the seed's open-append-close JSON-lines file";

    private sealed record Item(string product_id, int quantity, decimal price);

    private sealed record Order(string order_id, string user_id, Item[] items, decimal total_price);

    public Task<IReadOnlyList<Figure>> RunAsync(BenchSettings settings, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var path = Path.Combine(settings.ScratchDir, "orders.json");
        File.Delete(path);
        var orders = settings.Scale(50_000, 2_000);
        try
        {
            progress.Report($"naive producer: {orders} orders, open-append-close each");
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < orders; i++)
            {
                var order = new Order($"{i:D6}", $"{i % 1000:D5}", [new Item("535", 1, 300), new Item("125", 2, 100)], 500);
                using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
                file.Write(JsonSerializer.SerializeToUtf8Bytes(order));
                file.WriteByte((byte)'\n');
            }
            var produced = Rate.PerSecond(orders, watch.Elapsed);

            progress.Report("naive consumer: re-read and decode the whole file");
            watch.Restart();
            var read = 0;
            foreach (var line in File.ReadLines(path, Encoding.UTF8))
            {
                _ = JsonSerializer.Deserialize<Order>(line) ?? throw new InvalidDataException("Empty line in orders.json");
                read++;
            }
            var consumed = Rate.PerSecond(read, watch.Elapsed);
            if (read != orders) throw new InvalidDataException($"Read {read} orders back, wrote {orders}.");

            IReadOnlyList<Figure> figures =
            [
                new(Name, "naive file", "produce, 1 writer (no fsync)", produced, "records/s"),
                new(Name, "naive file", "consume, re-read whole file", consumed, "records/s"),
            ];
            return Task.FromResult(figures);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
