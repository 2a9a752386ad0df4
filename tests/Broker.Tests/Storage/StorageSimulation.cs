using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Tests.Storage;

/// <summary>Runs the storage layer's background work (group commit) when the simulation says, on its one thread.</summary>
internal sealed class SimulationScheduler : StorageScheduler
{
    private readonly Queue<Action> _work = new();

    public override void Schedule(Action work) => _work.Enqueue(work);

    /// <summary>Continuations run inline: what completes a waiter finishes its caller before the next simulated step.</summary>
    public override TaskCompletionSource NewCompletionSource() => new();

    public void RunAll()
    {
        while (_work.TryDequeue(out var work)) work();
    }

    public void Forget() => _work.Clear();
}

/// <summary>
/// One seeded run of the storage layer (LogManager, PartitionLog, the group offsets log) on a
/// <see cref="SimulatedDisk"/>, all on one thread in an order the seed decides: appends with every
/// acks level (acks=all through an idempotent producer that retries what was not acknowledged),
/// fetches, group commits, flushes, segment rolls (with zeros written ahead of the log end, as much as
/// the seed draws), retention, compaction, topic create and delete,
/// failing fsyncs, process crashes, clean restarts and power cuts, at step boundaries or in the
/// middle of an operation. After every recovery it checks the durability contract; during the run
/// it checks that nothing a fetch returned ever changes.
/// </summary>
internal sealed class StorageSimulation
{
    private const string DataDir = "/sim/data";
    private static readonly string[] Groups = ["g0", "g1", "g2"];

    private readonly int _seed;
    private readonly Random _random;
    private readonly SimulatedDisk _disk = new("/sim");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly SimulationScheduler _scheduler = new();
    private readonly BrokerOptions _options = new()
    {
        DataDir = DataDir,
        SegmentBytes = 2048, // __consumer_offsets rolls and is compacted too
        RetentionCheckIntervalMs = 5_000,
    };
    private readonly List<string> _history = [];
    private readonly HashSet<long> _producerIds = [];

    private LogManager _logs = null!;
    private CommittedOffsets _offsets = null!;
    private int _nextValue;
    private int _nextTopic;

    private sealed record Rec(string Key, string Value);

    private sealed record TopicFacts(Guid Id, string Name, Dictionary<string, string> Configs, int Partitions, bool Compact);

    private sealed record InFlight(byte[] Batch, List<Rec> Records)
    {
        public ValueTask<AppendResult>? Pending { get; set; }
    }

    private sealed class Producer(long id)
    {
        public long Id { get; } = id;
        public int NextSequence { get; set; }
        public List<InFlight> InFlight { get; } = [];
    }

    private sealed record Commit(string Group, string Topic, int Partition, Guid TopicId, long Offset)
    {
        public Task? Pending { get; set; }
    }

    // What was acknowledged or observed: the contract is checked against these.
    private readonly Dictionary<string, TopicFacts> _topics = [];
    private readonly HashSet<string> _deleted = [];
    private readonly HashSet<string> _uncertainConfigs = [];
    private readonly Dictionary<string, int> _uncertainPartitions = [];
    private readonly Dictionary<(Guid, int), long> _deletedBefore = [];
    private readonly Dictionary<(Guid, int), Dictionary<long, Rec>> _seen = [];
    private readonly Dictionary<(Guid, int), Dictionary<long, Rec>> _acknowledged = [];
    private readonly Dictionary<(Guid, int), long> _highestHighWatermark = [];
    private readonly Dictionary<(Guid, int), Producer> _producers = [];
    private readonly List<Commit> _pendingCommits = [];
    private readonly Dictionary<(string, string, int), List<Commit>> _commitsByKey = [];
    private readonly Dictionary<(string, string, int), Commit> _acknowledgedCommits = [];

    public StorageSimulation(int seed)
    {
        _seed = seed;
        _random = new Random(seed);
        // Zeros ahead of the log end: off, a few bytes, most of a segment, more than a segment. Drawn
        // apart from the steps so that a seed's steps stay what they were before the filler existed.
        _options.PreallocateBytes = new Random(~seed).Next(4) switch { 0 => 0, 1 => 300, 2 => 1024, _ => 4 * 1024 * 1024 };
        _history.Add($"PreallocateBytes={_options.PreallocateBytes}");
    }

    public int Steps { get; private set; }

    public int PowerCuts { get; private set; }

    public static string ReplayCommand(int seed) =>
        $"STORAGE_SIM_SEED={seed} dotnet test tests/Broker.Tests --filter FullyQualifiedName~StorageSimulationTests";

    public void Run(int steps)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null); // continuations inline, on this thread
        try
        {
            Start();
            for (Steps = 0; Steps < steps; Steps++)
            {
                try
                {
                    Step();
                }
                catch (IOException) when (_disk.PowerLost)
                {
                    // the operation was cut off: what it left on disk is what recovery gets
                }
                if (_disk.PowerLost) Recover(powerCut: true, "power lost mid-operation");
            }
            Recover(powerCut: true, "final power cut");
            _logs.Dispose();
        }
        catch (Exception ex)
        {
            throw new SimulationFailure(
                $"seed {_seed} failed at step {Steps}: {ex.Message}\nReplay: {ReplayCommand(_seed)}\nLast steps:\n  " +
                string.Join("\n  ", _history.TakeLast(Environment.GetEnvironmentVariable("STORAGE_SIM_VERBOSE") is { Length: > 0 } ? int.MaxValue : 25)), ex);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void Note(string what) => _history.Add($"{Steps}: {what}");

    private void Start()
    {
        var context = new LogContext(_disk, _options, _time, _scheduler, NullLoggerFactory.Instance);
        _logs = new LogManager(context);
        _offsets = new CommittedOffsets(_logs, NullLogger<CommittedOffsets>.Instance);
    }

    private void Step()
    {
        var roll = _random.Next(100);
        if (roll < 2 && _topics.Count < 6 || _topics.Count == 0) CreateTopic();
        else if (roll < 35) Produce();
        else if (roll < 55) Flush();
        else if (roll < 72) Fetch();
        else if (roll < 80) CommitOffset();
        else if (roll < 86) AdvanceTime();
        else if (roll < 87) DeleteTopic();
        else if (roll < 88) AlterConfigs();
        else if (roll < 89 && _random.Next(2) == 0) AddPartitions();
        else if (roll < 89) DeleteRecords();
        else if (roll < 90) FailNextSync();
        else if (roll < 92) LosePowerSoon();
        else if (roll < 95) Recover(powerCut: true, "power cut");
        else if (roll < 98) Recover(powerCut: false, "kill -9");
        else CleanRestart();
    }

    private void CreateTopic()
    {
        var name = $"t{_nextTopic++}";
        var compact = _random.Next(3) == 0;
        var configs = new Dictionary<string, string?>
        {
            [TopicConfig.CleanupPolicy] = compact ? "compact" : "delete",
            [TopicConfig.SegmentBytes] = new[] { "1024", "2048", "4096" }[_random.Next(3)],
        };
        if (!compact && _random.Next(2) == 0) configs[TopicConfig.RetentionBytes] = new[] { "3000", "8000" }[_random.Next(2)];
        if (!compact && _random.Next(3) == 0) configs[TopicConfig.RetentionMs] = "60000";
        var partitions = 1 + _random.Next(3);
        Note($"create {name} with {partitions} partitions, {string.Join(",", configs.Select(c => c.Key + "=" + c.Value))}");
        try
        {
            var topic = _logs.CreateTopic(name, partitions, configs);
            _topics[name] = new TopicFacts(topic.TopicId, name, configs.ToDictionary(c => c.Key, c => c.Value!), partitions, compact);
        }
        catch (IOException ex)
        {
            Note($"  create failed: {ex.Message}");
        }
    }

    private void DeleteTopic()
    {
        if (_topics.Count == 0) return;
        var facts = _topics.Values.ElementAt(_random.Next(_topics.Count));
        Note($"delete {facts.Name}");
        var deleted = false;
        try
        {
            if (!_logs.DeleteTopic(facts.Name)) throw new InvalidOperationException($"acknowledged topic {facts.Name} was not found to delete");
            deleted = true;
        }
        catch (IOException ex)
        {
            // Not acknowledged: the topic may or may not survive a restart. The simulation stops using it.
            Note($"  delete failed: {ex.Message}");
        }
        _topics.Remove(facts.Name);
        if (deleted) _deleted.Add(facts.Name);
        foreach (var key in _producers.Keys.Where(k => k.Item1 == facts.Id).ToList()) _producers.Remove(key);
    }

    private void AlterConfigs()
    {
        if (_topics.Count == 0) return;
        var facts = _topics.Values.ElementAt(_random.Next(_topics.Count));
        var configs = new Dictionary<string, string>(facts.Configs)
        {
            [TopicConfig.SegmentBytes] = new[] { "1024", "2048", "4096" }[_random.Next(3)],
        };
        if (!facts.Compact) configs[TopicConfig.RetentionBytes] = new[] { "-1", "3000", "8000" }[_random.Next(3)];
        Note($"alter {facts.Name} configs to {string.Join(",", configs.Select(c => c.Key + "=" + c.Value))}");
        try
        {
            _logs.AlterTopicConfigs(facts.Name, configs.ToDictionary(c => c.Key, c => (string?)c.Value));
            _topics[facts.Name] = facts with { Configs = configs };
        }
        catch (IOException ex)
        {
            // Not acknowledged: either configs may be found after a restart.
            Note($"  alter failed: {ex.Message}");
            _uncertainConfigs.Add(facts.Name);
        }
    }

    private void AddPartitions()
    {
        if (_topics.Count == 0) return;
        var facts = _topics.Values.ElementAt(_random.Next(_topics.Count));
        if (facts.Partitions >= 5) return;
        var total = facts.Partitions + 1 + _random.Next(5 - facts.Partitions);
        Note($"add partitions to {facts.Name}: {facts.Partitions} -> {total}");
        try
        {
            _logs.AddPartitions(facts.Name, total);
            _topics[facts.Name] = facts with { Partitions = total };
        }
        catch (IOException ex)
        {
            Note($"  add partitions failed: {ex.Message}");
            _uncertainPartitions[facts.Name] = total;
        }
    }

    private void DeleteRecords()
    {
        if (PickPartition() is not var (facts, partition, log)) return;
        var before = log.LogStartOffset + _random.NextInt64(Math.Max(0, log.HighWatermark - log.LogStartOffset) + 1);
        Note($"delete records of {facts.Name}-{partition} before {before}");
        try
        {
            log.DeleteRecordsBefore(before);
            var key = (facts.Id, partition);
            _deletedBefore[key] = Math.Max(_deletedBefore.GetValueOrDefault(key), before);
        }
        catch (IOException ex)
        {
            Note($"  delete records failed: {ex.Message}");
        }
    }

    private (TopicFacts Facts, int Partition, PartitionLog Log)? PickPartition()
    {
        if (_topics.Count == 0) return null;
        var facts = _topics.Values.ElementAt(_random.Next(_topics.Count));
        if (!_logs.TryGetTopic(facts.Name, out var topic)) throw new InvalidOperationException($"acknowledged topic {facts.Name} is missing");
        var partition = _random.Next(facts.Partitions);
        return (facts, partition, topic.Partitions[partition]);
    }

    private List<Rec> NewRecords(bool compact)
    {
        var count = 1 + _random.Next(4);
        return Enumerable.Range(0, count)
            .Select(_ => new Rec($"k{_random.Next(compact ? 4 : 50)}", $"v{_nextValue++}"))
            .ToList();
    }

    private byte[] Batch(List<Rec> records, (long, short, int)? producer) =>
        RecordBatchBuilder.Build(
            records.Select(r => new KeyValueRecord(Encoding.UTF8.GetBytes(r.Key), Encoding.UTF8.GetBytes(r.Value))).ToList(),
            _time.GetUtcNow().ToUnixTimeMilliseconds(), producer);

    private void Produce()
    {
        if (PickPartition() is not var (facts, partition, log)) return;
        var acks = _random.Next(3); // 0, 1 or all (2)
        var records = NewRecords(facts.Compact);
        if (acks < 2)
        {
            Note($"produce acks={acks} {facts.Name}-{partition} {records.Count} records");
            try
            {
                _ = log.AppendAsync(Batch(records, null), durable: false);
            }
            catch (IOException ex)
            {
                Note($"  refused: {ex.Message}");
            }
            return;
        }
        var producer = ProducerFor(facts, partition);
        if (producer.InFlight.Count >= 5) return; // max.in.flight for idempotence, as librdkafka
        var batch = new InFlight(Batch(records, (producer.Id, 0, producer.NextSequence)), records);
        producer.NextSequence += records.Count;
        producer.InFlight.Add(batch);
        Note($"produce acks=all {facts.Name}-{partition} {records.Count} records, producer {producer.Id}");
        Send(log, batch);
    }

    private Producer ProducerFor(TopicFacts facts, int partition)
    {
        if (_producers.TryGetValue((facts.Id, partition), out var producer)) return producer;
        var id = _logs.ProducerIds.Allocate();
        if (!_producerIds.Add(id)) throw new InvalidOperationException($"producer id {id} was handed out twice");
        return _producers[(facts.Id, partition)] = new Producer(id);
    }

    private static void Send(PartitionLog log, InFlight batch)
    {
        try
        {
            batch.Pending = log.AppendAsync(batch.Batch, durable: true);
        }
        catch (Exception ex)
        {
            batch.Pending = ValueTask.FromException<AppendResult>(ex);
        }
    }

    private void Flush()
    {
        Note("run group commits");
        _scheduler.RunAll();
        CollectAcknowledgements();
    }

    private void CollectAcknowledgements()
    {
        foreach (var ((topicId, partition), producer) in _producers)
        {
            while (producer.InFlight.Count > 0 && producer.InFlight[0].Pending is { IsCompleted: true } pending)
            {
                if (!pending.IsCompletedSuccessfully) break; // refused: retried after the next restart
                var batch = producer.InFlight[0];
                producer.InFlight.RemoveAt(0);
                var result = pending.Result;
                var acknowledged = Map(_acknowledged, (topicId, partition));
                for (var i = 0; i < batch.Records.Count; i++) acknowledged[result.BaseOffset + i] = batch.Records[i];
                Note($"  acknowledged {batch.Records[0].Value}.. at {result.BaseOffset}");
            }
        }
        foreach (var commit in _pendingCommits.Where(c => c.Pending!.IsCompleted).ToList())
        {
            _pendingCommits.Remove(commit);
            if (commit.Pending!.IsCompletedSuccessfully) _acknowledgedCommits[(commit.Group, commit.Topic, commit.Partition)] = commit;
        }
    }

    private static Dictionary<long, Rec> Map(Dictionary<(Guid, int), Dictionary<long, Rec>> maps, (Guid, int) key) =>
        maps.TryGetValue(key, out var map) ? map : maps[key] = [];

    private void Fetch()
    {
        if (PickPartition() is not var (facts, partition, log)) return;
        var offset = log.LogStartOffset + _random.NextInt64(log.LogEndOffset - log.LogStartOffset + 1);
        Note($"fetch {facts.Name}-{partition} from {offset} (high watermark {log.HighWatermark}, log end {log.LogEndOffset})");
        FetchedRecords read;
        try
        {
            read = log.Read(offset, 100 + _random.Next(3000));
        }
        catch (OffsetOutOfRangeException)
        {
            return; // retention moved the start meanwhile
        }
        Observe(facts, partition, read);
    }

    private void Observe(TopicFacts facts, int partition, FetchedRecords read)
    {
        var key = (facts.Id, partition);
        if (read.HighWatermark < _highestHighWatermark.GetValueOrDefault(key))
            throw new InvalidOperationException($"{facts.Name}-{partition}: high watermark went back from {_highestHighWatermark[key]} to {read.HighWatermark}");
        _highestHighWatermark[key] = read.HighWatermark;
        var seen = Map(_seen, key);
        foreach (var (offset, record) in RecordBatchBuilder.ReadRecords(read.Records))
        {
            if (offset >= read.HighWatermark)
                throw new InvalidOperationException($"{facts.Name}-{partition}: fetch returned offset {offset} at or above the high watermark {read.HighWatermark}");
            var rec = new Rec(Encoding.UTF8.GetString(record.Key!), Encoding.UTF8.GetString(record.Value!));
            if (seen.TryGetValue(offset, out var earlier) && earlier != rec)
                throw new InvalidOperationException($"{facts.Name}-{partition}: offset {offset} was {earlier}, a fetch now returns {rec}");
            seen[offset] = rec;
        }
    }

    private void CommitOffset()
    {
        if (PickPartition() is not var (facts, partition, log)) return;
        var group = Groups[_random.Next(Groups.Length)];
        // A consumer commits the position after what it read: never beyond the high watermark.
        var offset = log.LogStartOffset + _random.NextInt64(Math.Max(0, log.HighWatermark - log.LogStartOffset) + 1);
        var commit = new Commit(group, facts.Name, partition, facts.Id, offset);
        Note($"commit {group} {facts.Name}-{partition} at {offset}");
        commit.Pending = _offsets.CommitAsync(group, [(new TopicPartitionKey(facts.Name, partition), new CommittedOffset(offset, null, _time.GetUtcNow().ToUnixTimeMilliseconds()))], CancellationToken.None);
        _pendingCommits.Add(commit);
        var byKey = (group, facts.Name, partition);
        if (!_commitsByKey.TryGetValue(byKey, out var list)) _commitsByKey[byKey] = list = [];
        list.Add(commit);
    }

    private void AdvanceTime()
    {
        var by = TimeSpan.FromMilliseconds(_random.Next(20_000));
        Note($"advance the clock {by.TotalSeconds:F1} s (retention and compaction run on their timer)");
        _time.Advance(by); // the LogManager's clean-up timer fires inside
        CollectAcknowledgements();
    }

    private void FailNextSync()
    {
        if (PickPartition() is not var (facts, partition, log)) return;
        var directory = log.Directory;
        Note($"the next fsync under {facts.Name}-{partition} fails (EIO)");
        var armed = true;
        _disk.Fault = (operation, path) =>
        {
            if (!armed || operation != "fsync" || !(path == directory || path.StartsWith(directory + "/", StringComparison.Ordinal))) return null;
            armed = false;
            return new IOException($"EIO: fsync of {path} failed");
        };
    }

    private void LosePowerSoon()
    {
        var operations = 1 + _random.Next(40);
        Note($"power will be lost after {operations} more disk changes");
        _disk.LosePowerAfter(operations);
    }

    private void CleanRestart()
    {
        Note("clean restart");
        try
        {
            _scheduler.RunAll();
            _logs.Dispose();
        }
        catch (IOException) when (_disk.PowerLost)
        {
            Recover(powerCut: true, "power lost during the clean stop");
            return;
        }
        CollectAcknowledgements();
        if (_disk.PowerLost)
        {
            Recover(powerCut: true, "power lost during the clean stop");
            return;
        }
        _disk.Crash(); // handles are closed by the stop; nothing else changes
        Restart();
    }

    private void Recover(bool powerCut, string why)
    {
        Note(why);
        CollectAcknowledgements();
        _logs.Abandon();
        _scheduler.Forget();
        if (powerCut)
        {
            _disk.PowerCut(_random);
            PowerCuts++;
        }
        else
        {
            _disk.Crash();
        }
        Restart();
    }

    private void Restart()
    {
        _disk.Fault = null;
        _pendingCommits.Clear();
        while (true)
        {
            try
            {
                Start();
                break;
            }
            catch (IOException) when (_disk.PowerLost)
            {
                // Power lost again during recovery: recovery must survive its own interruption.
                Note("power lost during recovery");
                _scheduler.Forget();
                _disk.PowerCut(_random);
                PowerCuts++;
            }
        }
        foreach (var topic in _logs.Topics)
            foreach (var p in topic.Partitions) Note($"  recovered {topic.Name}-{p.Partition}: log start {p.LogStartOffset}, high watermark {p.HighWatermark}, log end {p.LogEndOffset}");
        CheckContract();
        RetryUnacknowledged();
    }

    private void RetryUnacknowledged()
    {
        foreach (var ((topicId, partition), producer) in _producers)
        {
            var facts = _topics.Values.Single(t => t.Id == topicId);
            _logs.TryGetTopic(facts.Name, out var topic);
            foreach (var batch in producer.InFlight)
            {
                Note($"retry {batch.Records[0].Value}.. to {facts.Name}-{partition}");
                Send(topic.Partitions[partition], batch);
            }
        }
    }

    /// <summary>The durability contract, after a recovery.</summary>
    private void CheckContract()
    {
        foreach (var name in _deleted.Where(n => !_topics.ContainsKey(n)))
        {
            if (_logs.TryGetTopic(name, out _)) throw new InvalidOperationException($"topic {name} came back after its deletion was acknowledged");
        }
        foreach (var acknowledged in _topics.Values.ToList())
        {
            var facts = acknowledged;
            if (!_logs.TryGetTopic(facts.Name, out var topic))
                throw new InvalidOperationException($"acknowledged topic {facts.Name} is missing after recovery" +
                    (_logs.UnavailableTopics.TryGetValue(facts.Name, out var why) ? $": {why}" : ""));
            if (topic.TopicId != facts.Id) throw new InvalidOperationException($"topic {facts.Name} changed id from {facts.Id} to {topic.TopicId}");
            if (_uncertainPartitions.Remove(facts.Name, out var maybe) && topic.Partitions.Count == maybe)
                _topics[facts.Name] = facts = facts with { Partitions = maybe };
            if (topic.Partitions.Count != facts.Partitions) throw new InvalidOperationException($"topic {facts.Name} has {topic.Partitions.Count} partitions, not {facts.Partitions}");
            if (_uncertainConfigs.Remove(facts.Name)) _topics[facts.Name] = facts = facts with { Configs = topic.Configs.ToDictionary() };
            if (!topic.Configs.OrderBy(c => c.Key).SequenceEqual(facts.Configs.OrderBy(c => c.Key)))
                throw new InvalidOperationException($"topic {facts.Name} configs changed to {string.Join(",", topic.Configs.Select(c => c.Key + "=" + c.Value))}");
            for (var p = 0; p < facts.Partitions; p++) CheckPartition(facts, p, topic.Partitions[p]);
        }
        CheckCommittedOffsets();
    }

    private void CheckPartition(TopicFacts facts, int partition, PartitionLog log)
    {
        var key = (facts.Id, partition);
        var log_ = ReadWhole(log);
        var where = $"{facts.Name}-{partition}";
        if (log.LogStartOffset < _deletedBefore.GetValueOrDefault(key))
            throw new InvalidOperationException($"{where}: log start offset {log.LogStartOffset} after recovery is below {_deletedBefore[key]}, where DeleteRecords moved it");
        if (log.HighWatermark < _highestHighWatermark.GetValueOrDefault(key))
            throw new InvalidOperationException($"{where}: high watermark {log.HighWatermark} after recovery is below {_highestHighWatermark[key]}, which consumers saw");
        var duplicate = log_.GroupBy(r => r.Value.Value).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException($"{where}: {duplicate.Key} is stored twice, at {string.Join(" and ", duplicate.Select(d => d.Key))}");
        var promised = Map(_seen, key).Select(s => (s.Key, s.Value, "seen by a fetch"))
            .Concat(Map(_acknowledged, key).Select(a => (a.Key, a.Value, "acknowledged with acks=all")));
        foreach (var (offset, rec, why) in promised)
        {
            if (offset < log.LogStartOffset) continue; // retention took it, legitimately
            if (log_.TryGetValue(offset, out var stored))
            {
                if (stored != rec) throw new InvalidOperationException($"{where}: offset {offset}, {why} as {rec}, now holds {stored}");
                continue;
            }
            // Compaction may drop a record only for a later one with the same key.
            if (!(facts.Compact && log_.Any(r => r.Key > offset && r.Value.Key == rec.Key)))
                throw new InvalidOperationException($"{where}: offset {offset}, {why} as {rec}, is gone (log start {log.LogStartOffset}, high watermark {log.HighWatermark})");
        }
    }

    private static SortedDictionary<long, Rec> ReadWhole(PartitionLog log)
    {
        var records = new SortedDictionary<long, Rec>();
        var offset = log.LogStartOffset;
        while (offset < log.HighWatermark)
        {
            var read = log.Read(offset, 1 << 20);
            if (read.Records.IsEmpty) break;
            foreach (var (recordOffset, record) in RecordBatchBuilder.ReadRecords(read.Records))
            {
                if (recordOffset >= offset) records[recordOffset] = new Rec(Encoding.UTF8.GetString(record.Key!), Encoding.UTF8.GetString(record.Value!));
            }
            offset = RecordBatch.NextOffsetAfter(read.Records.Span);
        }
        return records;
    }

    private void CheckCommittedOffsets()
    {
        foreach (var ((group, topic, partition), acknowledged) in _acknowledgedCommits)
        {
            if (!_topics.TryGetValue(topic, out var facts) || facts.Id != acknowledged.TopicId) continue;
            var committed = _offsets.Get(group, new TopicPartitionKey(topic, partition))
                ?? throw new InvalidOperationException($"acknowledged commit of {group} on {topic}-{partition} at {acknowledged.Offset} is missing");
            // The acknowledged commit, or a later one that happened to become durable.
            var attempts = _commitsByKey[(group, topic, partition)];
            if (!attempts.Skip(attempts.IndexOf(acknowledged)).Any(c => c.Offset == committed.Offset))
                throw new InvalidOperationException($"{group} on {topic}-{partition}: committed {committed.Offset}, acknowledged {acknowledged.Offset}");
        }
        foreach (var facts in _topics.Values)
        {
            _logs.TryGetTopic(facts.Name, out var topic);
            foreach (var group in Groups)
            {
                for (var p = 0; p < facts.Partitions; p++)
                {
                    if (_offsets.Get(group, new TopicPartitionKey(facts.Name, p)) is not { } committed) continue;
                    // Only commits made on this incarnation of the topic (a deleted topic's groups keep theirs, as in Kafka).
                    if (!_commitsByKey.TryGetValue((group, facts.Name, p), out var attempts) || !attempts.Any(c => c.TopicId == facts.Id && c.Offset == committed.Offset)) continue;
                    if (committed.Offset > topic.Partitions[p].HighWatermark)
                        throw new InvalidOperationException($"{group} committed {committed.Offset} on {facts.Name}-{p}, past its recovered high watermark {topic.Partitions[p].HighWatermark}");
                }
            }
        }
    }
}

public sealed class SimulationFailure(string message, Exception inner) : Exception(message, inner);
