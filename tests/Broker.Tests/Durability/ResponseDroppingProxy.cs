using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Shop.Broker.Tests.Durability;

/// <summary>
/// A TCP proxy in front of the broker that lets the first N Produce requests through and then cuts
/// the connection instead of relaying their answers: the broker has written the records, the client
/// never heard so, and retries. What a lost network packet does to a producer. With no drops and
/// <c>onRequest</c> set, it records what real clients send (the fuzzer's seeds).
/// </summary>
public sealed class ResponseDroppingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _brokerPort;
    private readonly CancellationTokenSource _stop = new();
    private int _dropsLeft;
    private int _dropped;

    private readonly Action<byte[]>? _onRequest;

    public ResponseDroppingProxy(int brokerPort, int drops, Action<byte[]>? onRequest = null)
    {
        _brokerPort = brokerPort;
        _onRequest = onRequest;
        _dropsLeft = drops;
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Dropped => Volatile.Read(ref _dropped);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var _ = client;
        using var broker = new TcpClient();
        await broker.ConnectAsync(IPAddress.Loopback, _brokerPort);
        var toDrop = new ConcurrentDictionary<int, bool>();
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var up = PumpFramesAsync(client.GetStream(), broker.GetStream(), frame =>
        {
            _onRequest?.Invoke(frame);
            var apiKey = BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(4));
            if (apiKey == 0 && Interlocked.Decrement(ref _dropsLeft) >= 0)
                toDrop[BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(8))] = true;
            return true;
        }, cut.Token);
        var down = PumpFramesAsync(broker.GetStream(), client.GetStream(), frame =>
        {
            if (!toDrop.ContainsKey(BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(4)))) return true;
            Interlocked.Increment(ref _dropped);
            return false; // the broker answered; the client will never know
        }, cut.Token);
        await Task.WhenAny(up, down);
        await cut.CancelAsync();
    }

    /// <summary>Copies whole frames; stops (closing both sides) when <paramref name="pass"/> says no.</summary>
    private static async Task PumpFramesAsync(NetworkStream from, NetworkStream to, Func<byte[], bool> pass, CancellationToken cancellationToken)
    {
        try
        {
            var size = new byte[4];
            while (true)
            {
                await from.ReadExactlyAsync(size, cancellationToken);
                var frame = new byte[4 + BinaryPrimitives.ReadInt32BigEndian(size)];
                size.CopyTo(frame, 0);
                await from.ReadExactlyAsync(frame.AsMemory(4), cancellationToken);
                if (!pass(frame)) return;
                await to.WriteAsync(frame, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or EndOfStreamException)
        {
            // one side closed
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
