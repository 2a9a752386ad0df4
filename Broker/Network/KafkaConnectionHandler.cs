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
/// frames both handled), handled in arrival order and answered in request order; Produce requests are
/// pipelined (see <see cref="HandleAsync"/>). A frame that
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
        using var closing = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, lifetime.ApplicationStopping);
        var closed = closing.Token;
        var idleTimeout = TimeSpan.FromMilliseconds(options.ConnectionsMaxIdleMs);
        using var idle = new CancellationTokenSource(idleTimeout);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(closed, idle.Token);
        var endpoint = connection.Items.TryGetValue(typeof(KafkaEndpoint), out var tagged) && tagged is KafkaEndpoint e
            ? e
            : throw new InvalidOperationException("A Kafka connection without its listener: bind Kafka ports through KafkaListener.");
        var session = new KafkaSession(endpoint, address is null ? "unknown" : $"/{address}");
        var responses = new ResponseQueue(connection.Transport.Output, () => idle.CancelAfter(idleTimeout), closing, logger, connection.RemoteEndPoint);
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

                    var frame = RequestFrame.CopyFrom(buffer.Slice(4, size), reservation);
                    reservation = null;
                    buffer = buffer.Slice(4 + size);
                    BrokerTelemetry.BytesIn.Add(4 + size);
                    if (!await HandleAsync(frame, session, responses, closed)) return;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted) break;
            }
            // The client finished sending: it still gets every answer due.
            await responses.DrainAsync();
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !closed.IsCancellationRequested)
        {
            logger.LogInformation("Closing Kafka connection {Remote}: no request completed in {IdleMs} ms (Broker:ConnectionsMaxIdleMs)",
                connection.RemoteEndPoint, options.ConnectionsMaxIdleMs);
        }
        catch (OperationCanceledException) when (closed.IsCancellationRequested)
        {
            // the client went away, or an answer said to close
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
            await closing.CancelAsync();
            await responses.DisposeAsync();
            BrokerTelemetry.ActiveConnections.Add(-1);
            await input.CompleteAsync();
            await connection.Transport.Output.CompleteAsync();
        }
    }

    /// <summary>
    /// Starts one request. A Produce is pipelined: its appends are done, in arrival order, by the
    /// time its handler first waits (for the group commit's fsync), so the next frame is read while
    /// it waits, and the fsyncs of one connection's requests are shared. Anything else runs alone,
    /// as Kafka runs every request: after every earlier answer is written, and before the next frame
    /// is read. Returns false when the connection is to close.
    /// </summary>
    private async ValueTask<bool> HandleAsync(RequestFrame frame, KafkaSession session, ResponseQueue responses, CancellationToken closed)
    {
        var pipelined = frame.ApiKey == ApiKeys.Produce;
        if (!pipelined)
        {
            await responses.DrainAsync();
            closed.ThrowIfCancellationRequested(); // an earlier answer closed the connection
        }
        var outcome = apis.HandleAsync(frame.Memory, session, closed).AsTask();
        await responses.EnqueueAsync(frame, outcome, closed); // the frame is the queue's from here
        // A refusal that closes the connection comes before any wait; the answers due before it still go out.
        var closes = outcome.IsCompletedSuccessfully && outcome.Result.CloseReason is not null;
        if (!pipelined || closes) await responses.DrainAsync();
        return !closes && !closed.IsCancellationRequested;
    }

    /// <summary>The size prefix of the frame at the front of <paramref name="buffer"/> (which holds at least 4 bytes).</summary>
    private static int FrameSize(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        return BinaryPrimitives.ReadInt32BigEndian(prefix);
    }
}
