using System.Text;
using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Console;

/// <summary>A dead letter: the record in <c>&lt;topic&gt;.dlq</c> and what its headers say about where it came from and why.</summary>
public sealed record DeadLetter(string Topic, int Partition, LogRecord Record, string? Error, string? OriginalTopic,
    int? OriginalPartition, long? OriginalOffset, int? Attempts, bool Replayed);

/// <summary>A dead letter sent back: from where to where.</summary>
public sealed record Replay(string DeadLetterTopic, int DeadLetterPartition, long DeadLetterOffset, ProducedMessage To);

/// <summary>
/// The dead-letter topics (<c>&lt;topic&gt;.dlq</c>, written by the shop's consumers with the error
/// and the origin in headers) and their replay: a dead letter goes back to the partition it came
/// from, so it stays behind the other events of its key, with its own <c>message-id</c> (a new one
/// only when it has none), so inboxes still recognise it; <c>replayed-by</c> says who sent it back
/// from where. "Replay all" remembers how far it got in the committed offsets of
/// <see cref="ReplayGroup"/>, so a second click sends nothing twice.
/// </summary>
public sealed class DeadLetters(LogManager logs, MessageBrowser browser, ConsoleProducer producer, GroupCoordinator groups, TimeProvider time)
{
    public const string Suffix = ".dlq";

    /// <summary>The broker console's own consumer group over the dead-letter topics: its offsets mark what was replayed.</summary>
    public const string ReplayGroup = "broker-console-replay";

    public const string ErrorHeader = "error";
    public const string OriginalTopicHeader = "original-topic";
    public const string OriginalPartitionHeader = "original-partition";
    public const string OriginalOffsetHeader = "original-offset";
    public const string AttemptsHeader = "attempts";
    public const string MessageIdHeader = "message-id";
    public const string ReplayedByHeader = "replayed-by";

    /// <summary>Headers that describe the dead-lettering, not the message: left behind on replay.</summary>
    private static readonly HashSet<string> DeadLetterHeaders = [ErrorHeader, OriginalTopicHeader, OriginalPartitionHeader, OriginalOffsetHeader, AttemptsHeader];

    public static bool IsDeadLetterTopic(string topic) => topic.EndsWith(Suffix, StringComparison.Ordinal) && topic.Length > Suffix.Length;

    public IEnumerable<string> Topics => logs.Topics.Select(t => t.Name).Where(IsDeadLetterTopic);

    /// <summary>The dead letters of one topic, oldest first (up to <paramref name="limit"/>).</summary>
    public IReadOnlyList<DeadLetter> List(string topic, int limit = MessageBrowser.MaxLimit)
    {
        if (!IsDeadLetterTopic(topic)) throw new ConsoleNotFoundException($"'{topic}' is not a dead-letter topic (those end in {Suffix}).");
        var replayedUpTo = groups.Offsets.Of(ReplayGroup);
        return browser.Browse(new BrowseQuery(topic, null, BrowseStart.Oldest, null, null, limit, null)).Messages
            .Select(m => Describe(topic, m, m.Record.Offset < (replayedUpTo.GetValueOrDefault(new TopicPartitionKey(topic, m.Partition))?.Offset ?? 0)))
            .ToList();
    }

    /// <summary>Sends one dead letter back to where it came from.</summary>
    public async Task<Replay> ReplayOneAsync(string topic, int partition, long offset, string principal, CancellationToken cancellationToken)
    {
        var found = browser.Browse(new BrowseQuery(topic, partition, BrowseStart.Offset, offset, null, 1, null)).Messages;
        if (found is not [var message] || message.Record.Offset != offset)
            throw new ConsoleNotFoundException($"There is no dead letter at {topic}/{partition}@{offset}.");
        return await SendBackAsync(Describe(topic, message, replayed: false), principal, cancellationToken);
    }

    /// <summary>Sends back every dead letter of <paramref name="topic"/> not sent back by an earlier "replay all".</summary>
    public async Task<IReadOnlyList<Replay>> ReplayAllAsync(string topic, string principal, CancellationToken cancellationToken)
    {
        var pending = List(topic).Where(d => !d.Replayed).ToList();
        var replays = new List<Replay>();
        foreach (var letter in pending)
        {
            replays.Add(await SendBackAsync(letter, principal, cancellationToken));
            await groups.Offsets.CommitAsync(ReplayGroup,
                [(new TopicPartitionKey(topic, letter.Partition), new CommittedOffset(letter.Record.Offset + 1, principal, time.GetUtcNow().ToUnixTimeMilliseconds()))],
                cancellationToken);
        }
        return replays;
    }

    private async Task<Replay> SendBackAsync(DeadLetter letter, string principal, CancellationToken cancellationToken)
    {
        var origin = letter.OriginalTopic ?? letter.Topic[..^Suffix.Length];
        var headers = letter.Record.Headers.Where(h => !DeadLetterHeaders.Contains(h.Key) && h.Key != ReplayedByHeader).ToList();
        if (!headers.Any(h => h.Key == MessageIdHeader))
            headers.Add(new RecordHeader(MessageIdHeader, Encoding.UTF8.GetBytes(Guid.NewGuid().ToString("N"))));
        var by = $"{principal} at {time.GetUtcNow():O} from {letter.Topic}/{letter.Partition}@{letter.Record.Offset}";
        headers.Add(new RecordHeader(ReplayedByHeader, Encoding.UTF8.GetBytes(by)));
        var to = await producer.ProduceAsync(origin, letter.OriginalPartition, letter.Record.Key, letter.Record.Value, headers, cancellationToken);
        return new Replay(letter.Topic, letter.Partition, letter.Record.Offset, to);
    }

    private static DeadLetter Describe(string topic, PartitionRecord message, bool replayed)
    {
        var record = message.Record;
        return new DeadLetter(topic, message.Partition, record,
            MessageBrowser.Header(record, ErrorHeader),
            MessageBrowser.Header(record, OriginalTopicHeader),
            int.TryParse(MessageBrowser.Header(record, OriginalPartitionHeader), out var p) ? p : null,
            long.TryParse(MessageBrowser.Header(record, OriginalOffsetHeader), out var o) ? o : null,
            int.TryParse(MessageBrowser.Header(record, AttemptsHeader), out var a) ? a : null,
            replayed);
    }
}
