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

    /// <summary>
    /// <c>dd conv=fdatasync</c> of <paramref name="totalBytes"/> into a file of its own in <paramref name="folder"/>,
    /// deleted after: what a buffered durable write of exactly the volume a run wrote gets. Here that depends on
    /// the volume, through the page cache (2026-12-08: 512 MiB at 1.6–1.8 GB/s, 4 GiB at 204 MB/s in the same minute).
    /// </summary>
    public static double DurableWrite(string folder, long totalBytes)
    {
        var file = Path.Combine(folder, $"durable-write-{Guid.NewGuid():N}.bin");
        try
        {
            return SequentialWrite(file, totalBytes, sync: true);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// The same as <see cref="DurableWrite"/> with <c>O_DIRECT</c> (<c>dd oflag=direct conv=fdatasync</c>): the disk
    /// without the page cache. On this VM filling fresh page-cache pages is slower than the disk (2026-12-08:
    /// 3 GiB buffered 263–331 MB/s, direct 1.2–2.0 GB/s), so this is what a buffered writer, dd or broker, cannot reach.
    /// </summary>
    public static unsafe double DirectWrite(string folder, long totalBytes)
    {
        const int chunk = 1 << 20;
        var file = Path.Combine(folder, $"direct-write-{Guid.NewGuid():N}.bin");
        var buffer = (byte*)NativeMemory.AlignedAlloc(chunk, 4096);
        try
        {
            var span = new Span<byte>(buffer, chunk);
            Random.Shared.NextBytes(span);
            var fd = open(file, OpenWriteOnly | OpenCreate | OpenTruncate | OpenDirect, 420 /* 0644 */);
            if (fd < 0) throw new IOException($"open O_DIRECT failed: errno {Marshal.GetLastPInvokeError()}");
            using var handle = new SafeFileHandle(fd, ownsHandle: true);
            return TimedWrites(handle, span, totalBytes, sync: true);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
            File.Delete(file);
        }
    }

    private const int OpenWriteOnly = 0x1, OpenCreate = 0x40, OpenTruncate = 0x200;

    /// <summary>Linux's O_DIRECT, which differs between x86-64 and arm64.</summary>
    private static readonly int OpenDirect = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x10000 : 0x4000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    private static double SequentialWrite(string path, long totalBytes, bool sync)
    {
        var chunk = new byte[1 << 20];
        Random.Shared.NextBytes(chunk);
        File.Delete(path);
        using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
        return TimedWrites(handle, chunk, totalBytes, sync);
    }

    /// <summary>Writes <paramref name="chunk"/> again and again from offset 0 up to <paramref name="totalBytes"/>, then fdatasync if asked: MB/s.</summary>
    private static double TimedWrites(SafeFileHandle handle, ReadOnlySpan<byte> chunk, long totalBytes, bool sync)
    {
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
