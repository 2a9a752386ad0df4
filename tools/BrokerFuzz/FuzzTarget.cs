using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.Broker;
using Shop.Broker.Apis;
using Shop.Broker.Network;
using Shop.Broker.Protocol;

namespace Shop.BrokerFuzz;

/// <summary>
/// The whole request path of the broker in process, for the fuzzer: every API's parser and
/// handler through <see cref="ApiRegistry"/> on a real data folder (FlushPolicy=interval, so no
/// fsync per input), plus the record batch readers and every codec on the batches a Produce
/// request carries, CRC or not. An input "crashes" when anything but the answers a client may get
/// comes out: a response, a reason to close, or <see cref="InvalidDataException"/> from a batch.
/// </summary>
public sealed class FuzzTarget : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly ApiRegistry _apis;
    private readonly string _dataDir = Directory.CreateTempSubdirectory("shop-fuzz-").FullName;
    private readonly KafkaEndpoint _plaintext = new(SecurityProtocol.Plaintext, ListenAddress.Parse("localhost", "fuzz"), 9092, 9092);
    private readonly KafkaEndpoint _sasl = new(SecurityProtocol.SaslPlaintext, ListenAddress.Parse("localhost", "fuzz"), 9093, 9093);

    /// <summary>How long one input may run once it is told to stop before it counts as a hang.</summary>
    public static readonly TimeSpan HangAfter = TimeSpan.FromSeconds(5);

    public FuzzTarget()
    {
        var options = new BrokerOptions
        {
            DataDir = _dataDir, FlushPolicy = FlushPolicy.Interval, GroupInitialRebalanceDelayMs = 0,
            Users = new() { ["fuzz"] = "fuzz-password" }, MaxFrameBytes = 1 << 20,
        };
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddBroker(options);
        services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(NullLoggerFactory.Instance);
        _services = services.BuildServiceProvider();
        _apis = _services.GetRequiredService<ApiRegistry>();
    }

    /// <summary>Runs one input; returns null when the broker coped, or what went wrong.</summary>
    public async Task<string?> RunAsync(byte[] frame)
    {
        var session = new KafkaSession((frame.Length & 1) == 0 ? _plaintext : _sasl, "/127.0.0.1");
        if (frame.Length >= 2 && BinaryPrimitives.ReadInt16BigEndian(frame) == ApiKeys.SaslAuthenticate)
            session.BeginSasl("SCRAM-SHA-512", _services.GetRequiredService<Shop.Broker.Security.SaslMechanisms>().Start("SCRAM-SHA-512")!);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)); // long polls and rebalances are cut short
        var handled = Task.Run(async () =>
        {
            try
            {
                await _apis.HandleAsync(frame, session, stop.Token);
                return null;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception ex)
            {
                return $"{ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}";
            }
        });
        if (await Task.WhenAny(handled, Task.Delay(TimeSpan.FromMilliseconds(200) + HangAfter)) != handled)
            return $"hang: no answer {HangAfter.TotalSeconds:0} s after being told to stop";
        return await handled ?? Batches(frame);
    }

    /// <summary>The record batch readers on whatever looks like a batch in the frame (found by its magic byte), every codec.</summary>
    private static string? Batches(byte[] frame)
    {
        for (var at = 0; at + RecordBatch.HeaderSize <= frame.Length; at++)
        {
            if (frame[at + 16] != 2 || at + 12 > frame.Length) continue; // magic 2 at offset 16 of a batch
            var length = BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(at + 8));
            if (length < RecordBatch.HeaderSize - RecordBatch.LogOverhead || (long)at + RecordBatch.LogOverhead + length > frame.Length) continue;
            var batch = frame.AsSpan(at, RecordBatch.LogOverhead + length);
            try
            {
                RecordBatch.Records(batch, RecordCodecs.Decompress(frame[at + 22] & 7, batch[RecordBatch.HeaderSize..], maxBytes: 16 << 20));
            }
            catch (InvalidDataException)
            {
                // refused as it should be
            }
            catch (Exception ex)
            {
                return $"record batch at {at}: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}";
            }
        }
        return null;
    }

    public void Dispose()
    {
        _services.Dispose();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}
