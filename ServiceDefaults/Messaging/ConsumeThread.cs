using System.Threading.Channels;
using Confluent.Kafka;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// A Kafka consumer on a thread of its own: the client's <c>Consume</c> blocks, so it never runs on
/// the thread pool. The thread stays one batch ahead of the handling side: while a batch is handled,
/// it already waits for the next, so a message that arrives meanwhile is ready the moment
/// <see cref="NextAsync"/> is called. Only this thread calls <c>Consume</c>; storing offsets from
/// the handling side is safe alongside it (librdkafka's offset store is thread-safe).
/// </summary>
public sealed class ConsumeThread : IAsyncDisposable
{
    private readonly Func<IConsumer<string, byte[]>> _build;
    private readonly IReadOnlyList<string> _topics;
    private readonly int _maxBatch;
    private readonly Action<ConsumeException> _onError;
    private readonly CancellationTokenSource _stop = new();
    /// <summary>Taken by the thread before it consumes a batch, given back when the handling side takes one: one batch ahead at most.</summary>
    private readonly SemaphoreSlim _ahead = new(1, 1);
    private readonly Channel<List<ConsumeResult<string, byte[]>>> _batches = Channel.CreateUnbounded<List<ConsumeResult<string, byte[]>>>(
        // A handling side that waits for a batch continues on this thread, as the consumer loop did
        // before it had a thread: no hop through the thread pool between a message and its handler
        // (measured: on a busy 2-core machine each hop was a run-queue wait). Its first real await
        // hands it to the pool, and this thread goes back to consuming.
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile IConsumer<string, byte[]>? _consumer;

    public ConsumeThread(string name, Func<IConsumer<string, byte[]>> build, IReadOnlyList<string> topics, int maxBatch, Action<ConsumeException> onError)
    {
        _build = build;
        _topics = topics;
        _maxBatch = maxBatch;
        _onError = onError;
        new Thread(Run) { Name = name, IsBackground = true }.Start();
    }

    /// <summary>The next messages: at least one, and whatever else had arrived, up to the batch size.</summary>
    public async Task<List<ConsumeResult<string, byte[]>>> NextAsync(CancellationToken cancellationToken)
    {
        var batch = await _batches.Reader.ReadAsync(cancellationToken);
        _ahead.Release(); // the thread may wait for the next batch while this one is handled
        return batch;
    }

    /// <summary>Marks handled messages for the next (automatic) commit.</summary>
    public void StoreOffsets(IEnumerable<ConsumeResult<string, byte[]>> handled, Action<ConsumeResult<string, byte[]>, KafkaException> notStored)
    {
        if (_consumer is not { } consumer) return;
        foreach (var result in handled)
        {
            try
            {
                consumer.StoreOffset(result);
            }
            catch (KafkaException ex)
            {
                notStored(result, ex);
            }
            catch (ObjectDisposedException)
            {
                return; // closed meanwhile: its messages are delivered again, and the inbox knows them
            }
        }
    }

    private void Run()
    {
        var stop = _stop.Token;
        Exception? failure = null;
        try
        {
            using var consumer = _build();
            consumer.Subscribe(_topics);
            _consumer = consumer;
            try
            {
                while (true)
                {
                    _ahead.Wait(stop); // on this thread only: it exists to block
                    _batches.Writer.TryWrite(ConsumeBatch(consumer, stop));
                }
            }
            finally
            {
                _consumer = null;
                consumer.Close(); // commits the stored offsets and leaves the group at once
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        _batches.Writer.TryComplete(failure);
        if (failure is null) _closed.TrySetResult();
        else _closed.TrySetException(failure);
    }

    private List<ConsumeResult<string, byte[]>> ConsumeBatch(IConsumer<string, byte[]> consumer, CancellationToken stop)
    {
        var batch = new List<ConsumeResult<string, byte[]>>();
        while (batch.Count == 0)
        {
            try
            {
                batch.Add(consumer.Consume(stop));
                while (batch.Count < _maxBatch && consumer.Consume(TimeSpan.Zero) is { } more) batch.Add(more);
            }
            catch (ConsumeException ex)
            {
                _onError(ex);
            }
        }
        return batch;
    }

    /// <summary>Stops consuming, closes the consumer (committing what was stored) and waits for the thread.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _closed.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
