using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Shop.Bench.Workloads;

/// <summary>
/// What this machine can do at best, measured in the same run as everything it is compared with:
/// sequential write bandwidth with and without fdatasync, fdatasync latency of 4 KiB appends,
/// memory copy bandwidth, loopback TCP bandwidth and round trip.
/// </summary>
public sealed partial class MachineLimits : IWorkload
{
    public const string WorkloadName = "machine";

    public string Name => WorkloadName;

    public string Description => "disk and loopback limits of this machine";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchSettings settings, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var figures = new List<Figure>();
        var file = Path.Combine(settings.ScratchDir, "machine-limits.bin");
        try
        {
            var bytes = settings.Scale(512L << 20, 32L << 20);
            progress.Report($"sequential write of {bytes >> 20} MiB, page cache only");
            figures.Add(new Figure(Name, "disk", "sequential write (no fsync)", SequentialWrite(file, bytes, sync: false), "MB/s"));
            progress.Report($"sequential write of {bytes >> 20} MiB, then fdatasync (dd conv=fdatasync)");
            figures.Add(new Figure(Name, "disk", "sequential write + fdatasync", SequentialWrite(file, bytes, sync: true), "MB/s"));

            var appends = settings.Scale(2000, 200);
            progress.Report($"{appends} appends of 4 KiB, each followed by fdatasync");
            var latency = AppendFdatasyncLatency(file, appends);
            figures.Add(new Figure(Name, "disk", "4 KiB append + fdatasync p50", latency.Percentile(50), "µs"));
            figures.Add(new Figure(Name, "disk", "4 KiB append + fdatasync p99", latency.Percentile(99), "µs"));
            figures.Add(new Figure(Name, "disk", "4 KiB append + fdatasync p99.9", latency.Percentile(99.9), "µs"));
        }
        finally
        {
            File.Delete(file);
        }

        var tcpBytes = settings.Scale(2L << 30, 128L << 20);
        progress.Report($"loopback TCP, {tcpBytes >> 20} MiB one way");
        figures.Add(new Figure(Name, "loopback", "TCP bandwidth", await LoopbackBandwidthAsync(tcpBytes, cancellationToken), "MB/s"));

        var copyBytes = settings.Scale(4L << 30, 256L << 20);
        progress.Report($"memory copy, {copyBytes >> 20} MiB in 64 MiB blocks");
        figures.Add(new Figure(Name, "memory", "copy bandwidth", MemoryCopy(copyBytes), "MB/s"));

        var trips = settings.Scale(20_000, 2_000);
        progress.Report($"loopback TCP, {trips} round trips of 100 bytes");
        var rtt = await LoopbackRoundTripAsync(trips, cancellationToken);
        figures.Add(new Figure(Name, "loopback", "100-byte round trip p50", rtt.Percentile(50), "µs"));
        figures.Add(new Figure(Name, "loopback", "100-byte round trip p99", rtt.Percentile(99), "µs"));
        return figures;
    }

    private static double SequentialWrite(string path, long totalBytes, bool sync)
    {
        var chunk = new byte[1 << 20];
        Random.Shared.NextBytes(chunk);
        File.Delete(path);
        using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
        var watch = Stopwatch.StartNew();
        for (long offset = 0; offset < totalBytes; offset += chunk.Length)
        {
            RandomAccess.Write(handle, chunk, offset);
        }
        if (sync) Fdatasync(handle);
        return Rate.MegabytesPerSecond(totalBytes, watch.Elapsed);
    }

    /// <summary>One core copying between two buffers larger than any cache: the ceiling for any copy a broker makes.</summary>
    private static double MemoryCopy(long totalBytes)
    {
        var from = new byte[64 << 20];
        var to = new byte[64 << 20];
        Random.Shared.NextBytes(from);
        from.AsSpan().CopyTo(to); // fault the pages in first
        var watch = Stopwatch.StartNew();
        for (long copied = 0; copied < totalBytes; copied += from.Length) from.AsSpan().CopyTo(to);
        return Rate.MegabytesPerSecond(totalBytes, watch.Elapsed);
    }

    private static LatencySamples AppendFdatasyncLatency(string path, int appends)
    {
        var block = new byte[4096];
        Random.Shared.NextBytes(block);
        File.Delete(path);
        using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
        var samples = new LatencySamples(appends);
        for (var i = 0; i < appends; i++)
        {
            var start = Stopwatch.GetTimestamp();
            RandomAccess.Write(handle, block, (long)i * block.Length);
            Fdatasync(handle);
            samples.Add(start, Stopwatch.GetTimestamp());
        }
        return samples;
    }

    private static async Task<double> LoopbackBandwidthAsync(long totalBytes, CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var receiver = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(cancellationToken);
            var buffer = new byte[256 << 10];
            long received = 0;
            int n;
            while ((n = await socket.ReceiveAsync(buffer, cancellationToken)) > 0) received += n;
            return received;
        }, cancellationToken);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint, cancellationToken);
        var chunk = new byte[256 << 10];
        var watch = Stopwatch.StartNew();
        for (long sent = 0; sent < totalBytes; sent += chunk.Length)
        {
            await client.SendAsync(chunk, cancellationToken);
        }
        client.Shutdown(SocketShutdown.Send);
        var received = await receiver;
        return Rate.MegabytesPerSecond(received, watch.Elapsed);
    }

    private static async Task<LatencySamples> LoopbackRoundTripAsync(int trips, CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var echo = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(cancellationToken);
            socket.NoDelay = true;
            var buffer = new byte[100];
            while (await ReceiveExactlyAsync(socket, buffer, cancellationToken))
            {
                await socket.SendAsync(buffer, cancellationToken);
            }
        }, cancellationToken);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint, cancellationToken);
        var message = new byte[100];
        var reply = new byte[100];
        var samples = new LatencySamples(trips);
        for (var i = 0; i < trips; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.SendAsync(message, cancellationToken);
            await ReceiveExactlyAsync(client, reply, cancellationToken);
            samples.Add(start, Stopwatch.GetTimestamp());
        }
        client.Shutdown(SocketShutdown.Send);
        await echo;
        return samples;
    }

    private static async Task<bool> ReceiveExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    /// <summary>fdatasync(2): what a durable log append must wait for.</summary>
    public static void Fdatasync(SafeFileHandle handle)
    {
        if (fdatasync((int)handle.DangerousGetHandle()) != 0)
        {
            throw new IOException($"fdatasync failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fdatasync(int fd);
}
