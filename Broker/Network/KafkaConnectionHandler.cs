using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Shop.Broker.Apis;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Network;

/// <summary>
/// One Kafka client connection: size-prefixed frames are read from the pipe (partial and coalesced
/// frames both handled), handled one after another, and answered in request order. A frame that
/// is too large, too small or unparseable closes this connection only. When the broker stops, open
/// connections are closed at once: Kestrel cannot drain a non-HTTP protocol and would otherwise
/// wait its whole shutdown timeout for clients that never hang up.
/// </summary>
public sealed class KafkaConnectionHandler(
    ApiRegistry apis, BrokerOptions options, IHostApplicationLifetime lifetime, ILogger<KafkaConnectionHandler> logger) : ConnectionHandler
{
    /// <summary>api key + version + correlation id + client id length.</summary>
    private const int MinimumFrame = 10;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        logger.LogDebug("Kafka connection {ConnectionId} from {Remote}", connection.ConnectionId, connection.RemoteEndPoint);
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        using var closing = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, lifetime.ApplicationStopping);
        var closed = closing.Token;
        var clientHost = connection.RemoteEndPoint is System.Net.IPEndPoint ip ? $"/{ip.Address}" : "unknown";
        var endpoint = connection.Items.TryGetValue(typeof(KafkaEndpoint), out var tagged) && tagged is KafkaEndpoint e
            ? e
            : throw new InvalidOperationException("A Kafka connection without its listener: bind Kafka ports through KafkaListener.");
        var session = new KafkaSession(endpoint, clientHost);
        BrokerTelemetry.ActiveConnections.Add(1);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(closed);
                var buffer = result.Buffer;
                while (true)
                {
                    var frame = TryReadFrame(ref buffer, out var problem);
                    if (problem is not null)
                    {
                        logger.LogWarning("Closing Kafka connection {Remote}: {Problem}", connection.RemoteEndPoint, problem);
                        return;
                    }
                    if (frame is null) break;

                    BrokerTelemetry.BytesIn.Add(4 + frame.Length);
                    var outcome = await apis.HandleAsync(frame, session, closed);
                    if (outcome.Response is { } response)
                    {
                        BrokerTelemetry.BytesOut.Add(response.Length);
                        await output.WriteAsync(response, closed);
                    }
                    if (outcome.CloseReason is not null)
                    {
                        logger.LogWarning("Closing Kafka connection {Remote}: {Reason}", connection.RemoteEndPoint, outcome.CloseReason);
                        return;
                    }
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted) return;
            }
        }
        catch (OperationCanceledException) when (closed.IsCancellationRequested)
        {
            // the client went away
        }
        catch (ConnectionResetException)
        {
            // the client went away
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Kafka connection {Remote} failed; closing it", connection.RemoteEndPoint);
        }
        finally
        {
            BrokerTelemetry.ActiveConnections.Add(-1);
            await input.CompleteAsync();
            await output.CompleteAsync();
        }
    }

    /// <summary>
    /// Takes one whole frame off the front of <paramref name="buffer"/> (copied: handlers may keep
    /// slices of it while awaiting), or null when more bytes are needed.
    /// </summary>
    private byte[]? TryReadFrame(ref ReadOnlySequence<byte> buffer, out string? problem)
    {
        problem = null;
        if (buffer.Length < 4) return null;
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        var size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (size < MinimumFrame || size > options.MaxFrameBytes)
        {
            problem = $"frame size {size} is outside {MinimumFrame}..{options.MaxFrameBytes} bytes (garbage, or larger than Broker:MaxFrameBytes)";
            return null;
        }
        if (buffer.Length < 4 + size) return null;
        var frame = buffer.Slice(4, size).ToArray();
        buffer = buffer.Slice(4 + size);
        return frame;
    }
}
