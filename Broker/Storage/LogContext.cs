using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Storage;

/// <summary>What every part of the storage layer shares: the disk, the clock, the scheduler for background flushes, the settings and logging.</summary>
public sealed record LogContext(IDisk Disk, BrokerOptions Options, TimeProvider Time, StorageScheduler Scheduler, ILoggerFactory LoggerFactory)
{
    public DateTimeOffset Now => Time.GetUtcNow();

    public long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();
}
