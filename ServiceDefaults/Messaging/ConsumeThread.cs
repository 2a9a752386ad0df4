using Confluent.Kafka;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// A Kafka consumer on a thread of its own: the client's <c>Consume</c> blocks, so it never runs on
/// the thread pool. The handling side asks for the next batch with <see cref="NextAsync"/> and awaits
/// it; the thread consumes only while asked, so the consumer is used by one thread at a time, and
/// <see cref="StoreOffsets"/> runs between batches, while the thread waits.
/// </summary>
public sealed class ConsumeThread : IAsyncDisposable
{
    private readonly Func<IConsumer<string, byte[]>> _build;
    private readonly IReadOnlyList<string> _topics;
    private readonly int _maxBatch;
    private readonly Action<ConsumeException> _onError;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _asked = new(0, 1);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<List<ConsumeResult<string, byte[]>>>? _next;
    private IConsumer<string, byte[]>? _consumer;

    public ConsumeThread(string name, Func<IConsumer<string, byte[]>> build, IReadOnlyList<string> topics, int maxBatch, Action<ConsumeException> onError)
    {
        _build = build;
        _topics = topics;
        _maxBatch = maxBatch;
        _onError = onError;
        new Thread(Run) { Name = name, IsBackground = true }.Start();
    }

    /// <summary>The next messages: at least one, and whatever else has arrived, up to the batch size.</summary>
    public Task<List<ConsumeResult<string, byte[]>>> NextAsync()
    {
        var next = new TaskCompletionSource<List<ConsumeResult<string, byte[]>>>(TaskCreationOptions.RunContinuationsAsynchronously);
        _next = next;
        _asked.Release();
        return next.Task;
    }

    /// <summary>Marks handled messages for the next (automatic) commit. Call only between batches.</summary>
    public void StoreOffsets(IEnumerable<ConsumeResult<string, byte[]>> handled, Action<ConsumeResult<string, byte[]>, KafkaException> notStored)
    {
        foreach (var result in handled)
        {
            try
            {
                _consumer?.StoreOffset(result);
            }
            catch (KafkaException ex)
            {
                notStored(result, ex);
            }
        }
    }

    private void Run()
    {
        var stop = _stop.Token;
        try
        {
            using var consumer = Subscribe();
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    _asked.Wait(stop); // on this thread only: it exists to block
                    var next = _next!;
                    try
                    {
                        next.TrySetResult(ConsumeBatch(consumer, stop));
                    }
                    catch (Exception ex)
                    {
                        next.TrySetException(ex);
                        if (ex is OperationCanceledException) throw;
                    }
                }
            }
            finally
            {
                consumer.Close(); // commits the stored offsets and leaves the group at once
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _next?.TrySetException(ex);
            _closed.TrySetException(ex);
            return;
        }
        _next?.TrySetCanceled(stop);
        _closed.TrySetResult();
    }

    private IConsumer<string, byte[]> Subscribe()
    {
        _consumer = _build();
        _consumer.Subscribe(_topics);
        return _consumer;
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
