using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using Shop.Broker.Protocol;
using Shop.Broker.Apis;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Network;

/// <summary>
/// The answers of one connection, written in request order as Kafka clients require, whatever order
/// their handlers finish in. Answers that are ready one after another go out in one flush. A frame
/// is released once its handler has finished, and an answer that says to close the connection is
/// the last one written: the connection's token is cancelled, so its reader stops too.
/// </summary>
internal sealed class ResponseQueue : IAsyncDisposable
{
    /// <summary>Requests started but not yet answered, per connection; the reader waits when that many are.</summary>
    public const int MaxPipelined = 32;

    /// <summary>The most of one answer written to the pipe before a flush.</summary>
    private const int Chunk = 256 * 1024;

    private readonly Channel<(RequestFrame Frame, Task<RequestOutcome> Outcome)> _queue =
        Channel.CreateBounded<(RequestFrame, Task<RequestOutcome>)>(new BoundedChannelOptions(MaxPipelined) { SingleReader = true, SingleWriter = true });
    private readonly PipeWriter _output;
    private readonly Action _answered;
    private readonly CancellationTokenSource _closing;
    private readonly ILogger _logger;
    private readonly EndPoint? _remote;
    private readonly Lock _lock = new();
    private readonly Task _writing;
    private int _unflushed; // bytes written to the pipe since its last flush
    private long _enqueued;
    private long _written;
    private bool _finished;
    private TaskCompletionSource? _drained;

    /// <param name="answered">Told after each answer (the idle timer restarts).</param>
    /// <param name="closing">Cancelled when an answer closes the connection or writing fails.</param>
    public ResponseQueue(PipeWriter output, Action answered, CancellationTokenSource closing, ILogger logger, EndPoint? remote)
    {
        _output = output;
        _answered = answered;
        _closing = closing;
        _logger = logger;
        _remote = remote;
        _writing = Task.Run(WriteAllAsync);
    }

    /// <summary>Queues a started request; its answer is written after every earlier one.</summary>
    public async ValueTask EnqueueAsync(RequestFrame frame, Task<RequestOutcome> outcome, CancellationToken cancellationToken)
    {
        lock (_lock) _enqueued++;
        try
        {
            await _queue.Writer.WriteAsync((frame, outcome), cancellationToken);
        }
        catch
        {
            lock (_lock) _enqueued--;
            await ReleaseAsync(frame, outcome);
            throw;
        }
    }

    /// <summary>Completes once every queued answer is written (or the connection is closing).</summary>
    public Task DrainAsync()
    {
        lock (_lock)
        {
            if (_finished || _written == _enqueued) return Task.CompletedTask;
            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    private async Task WriteAllAsync()
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_closing.Token))
            {
                while (reader.TryRead(out var item))
                {
                    RequestOutcome outcome;
                    try
                    {
                        outcome = await item.Outcome;
                    }
                    finally
                    {
                        item.Frame.Dispose();
                    }
                    try
                    {
                        if (outcome.Response is { } response && !await WriteAsync(response)) return;
                    }
                    finally
                    {
                        outcome.Buffer?.Dispose(); // copied into the pipe
                    }
                    _answered();
                    if (outcome.CloseReason is not null)
                    {
                        await _output.FlushAsync(_closing.Token);
                        _logger.LogWarning("Closing Kafka connection {Remote}: {Reason}", _remote, outcome.CloseReason);
                        return;
                    }
                    // One flush for every answer that is ready now; a produce still waiting for its fsync is not.
                    if (!reader.TryPeek(out var next) || !next.Outcome.IsCompleted)
                    {
                        _unflushed = 0;
                        var flushed = await _output.FlushAsync(_closing.Token);
                        if (flushed.IsCompleted || flushed.IsCanceled) return;
                    }
                    Written();
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // the connection is closing
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Kafka connection {Remote} failed; closing it", _remote);
        }
        finally
        {
            TaskCompletionSource? drained;
            lock (_lock)
            {
                _finished = true;
                drained = _drained;
                _drained = null;
            }
            drained?.TrySetResult();
            await _closing.CancelAsync();
        }
    }

    /// <summary>
    /// Copies an answer into the pipe, its deferred bytes (fetched records) read straight into the
    /// pipe's memory. A large one goes a chunk at a time with a flush between: the pipe keeps a few
    /// hundred segments for reuse, and megabytes written at once allocated new ones for every answer.
    /// False when the client is gone.
    /// </summary>
    private async ValueTask<bool> WriteAsync(ResponseFrame response)
    {
        BrokerTelemetry.BytesOut.Add(response.Length);
        var position = 0;
        foreach (var (at, deferred) in response.Deferred)
        {
            if (!await WriteAsync(response.Bytes[position..at])) return false;
            for (var offset = 0; offset < deferred.Length;)
            {
                var span = _output.GetSpan(Math.Min(deferred.Length - offset, SocketBlocks.BlockSize));
                var count = Math.Min(span.Length, deferred.Length - offset);
                deferred.CopyTo(offset, span[..count]);
                _output.Advance(count);
                offset += count;
                if (!await WrittenAsync(count)) return false;
            }
            position = at;
        }
        return await WriteAsync(response.Bytes[position..]);
    }

    private async ValueTask<bool> WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            var count = Math.Min(bytes.Length, Chunk - _unflushed);
            _output.Write(bytes.Span[..count]);
            bytes = bytes[count..];
            if (!await WrittenAsync(count)) return false;
        }
        return true;
    }

    /// <summary>Flushes once a chunk has been written since the last flush; false when the client is gone.</summary>
    private async ValueTask<bool> WrittenAsync(int count)
    {
        _unflushed += count;
        if (_unflushed < Chunk) return true;
        _unflushed = 0;
        var flushed = await _output.FlushAsync(_closing.Token);
        return !flushed.IsCompleted && !flushed.IsCanceled;
    }

    private void Written()
    {
        TaskCompletionSource? drained = null;
        lock (_lock)
        {
            _written++;
            if (_written == _enqueued)
            {
                drained = _drained;
                _drained = null;
            }
        }
        drained?.TrySetResult();
    }

    /// <summary>Waits for a request no one will answer to let go of its frame, then releases it.</summary>
    private static async ValueTask ReleaseAsync(RequestFrame frame, Task<RequestOutcome> outcome)
    {
        try
        {
            (await outcome).Buffer?.Dispose();
        }
        catch
        {
            // its answer is not going anywhere
        }
        frame.Dispose();
    }

    /// <summary>After the connection's token is cancelled: stops writing and releases what was never answered.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writing;
        while (_queue.Reader.TryRead(out var item)) await ReleaseAsync(item.Frame, item.Outcome);
    }
}
