using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Shop.Broker.Apis;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Network;

/// <summary>
/// One Kafka client connection: size-prefixed frames are read from the pipe (partial and coalesced
/// frames both handled), handled one after another, and answered in request order. A frame that
/// is too large, too small or unparseable closes this connection only. Limits keep one client from
/// taking the broker down: connections over <see cref="ConnectionLimits"/> are closed on arrival, a
/// frame's bytes are reserved from <see cref="RequestMemory"/> before it is buffered, and a
/// connection that completes no request for <c>Broker:ConnectionsMaxIdleMs</c> is closed. When the
/// broker stops, open connections are closed at once: Kestrel cannot drain a non-HTTP protocol and
/// would otherwise wait its whole shutdown timeout for clients that never hang up.
/// </summary>
public sealed class KafkaConnectionHandler(
    ApiRegistry apis, BrokerOptions options, ConnectionLimits limits, RequestMemory memory,
    IHostApplicationLifetime lifetime, ILogger<KafkaConnectionHandler> logger) : ConnectionHandler
{
    /// <summary>api key + version + correlation id + client id length.</summary>
    private const int MinimumFrame = 10;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        if (!limits.TryAdmit(address, out var refusal))
        {
            BrokerTelemetry.RefusedConnections.Add(1);
            logger.LogWarning("Refusing Kafka connection from {Remote}: {Reason}", connection.RemoteEndPoint, refusal);
            return;
        }
        try
        {
            await ServeAsync(connection, address);
        }
        finally
        {
            limits.Release(address);
        }
    }

    private async Task ServeAsync(ConnectionContext connection, IPAddress? address)
    {
        logger.LogDebug("Kafka connection {ConnectionId} from {Remote}", connection.ConnectionId, connection.RemoteEndPoint);
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        using var closing = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, lifetime.ApplicationStopping);
        var closed = closing.Token;
        var idleTimeout = TimeSpan.FromMilliseconds(options.ConnectionsMaxIdleMs);
        using var idle = new CancellationTokenSource(idleTimeout);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(closed, idle.Token);
        var endpoint = connection.Items.TryGetValue(typeof(KafkaEndpoint), out var tagged) && tagged is KafkaEndpoint e
            ? e
            : throw new InvalidOperationException("A Kafka connection without its listener: bind Kafka ports through KafkaListener.");
        var session = new KafkaSession(endpoint, address is null ? "unknown" : $"/{address}");
        RequestMemory.Reservation? reservation = null;
        BrokerTelemetry.ActiveConnections.Add(1);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(waiting.Token);
                var buffer = result.Buffer;
                while (buffer.Length >= 4)
                {
                    var size = FrameSize(buffer);
                    if (size is < MinimumFrame || size > options.MaxFrameBytes)
                    {
                        logger.LogWarning("Closing Kafka connection {Remote}: frame size {Size} is outside {Min}..{Max} bytes (garbage, or larger than Broker:MaxFrameBytes)",
                            connection.RemoteEndPoint, size, MinimumFrame, options.MaxFrameBytes);
                        return;
                    }
                    // Its share of the broker's request memory before the rest of it is buffered:
                    // while it waits, this connection does not read, and TCP slows the client down.
                    reservation ??= await memory.ReserveAsync(4 + size, waiting.Token);
                    if (buffer.Length < 4 + size) break;

                    // Copied: handlers may keep slices of the frame while awaiting.
                    var frame = buffer.Slice(4, size).ToArray();
                    buffer = buffer.Slice(4 + size);
                    BrokerTelemetry.BytesIn.Add(4 + frame.Length);
                    var outcome = await apis.HandleAsync(frame, session, closed);
                    if (outcome.Response is { } response)
                    {
                        BrokerTelemetry.BytesOut.Add(response.Length);
                        await output.WriteAsync(response, closed);
                    }
                    reservation.Dispose();
                    reservation = null;
                    idle.CancelAfter(idleTimeout);
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
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !closed.IsCancellationRequested)
        {
            logger.LogInformation("Closing Kafka connection {Remote}: no request completed in {IdleMs} ms (Broker:ConnectionsMaxIdleMs)",
                connection.RemoteEndPoint, options.ConnectionsMaxIdleMs);
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
            reservation?.Dispose();
            BrokerTelemetry.ActiveConnections.Add(-1);
            await input.CompleteAsync();
            await output.CompleteAsync();
        }
    }

    /// <summary>The size prefix of the frame at the front of <paramref name="buffer"/> (which holds at least 4 bytes).</summary>
    private static int FrameSize(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        return BinaryPrimitives.ReadInt32BigEndian(prefix);
    }
}
