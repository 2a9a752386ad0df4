namespace Shop.Broker;

/// <summary>
/// Broker settings, bound from the configuration section <c>Broker</c>
/// (appsettings, <c>Broker__Port</c> env vars, or <c>--Broker:Port=9092</c> on the command line).
/// </summary>
public sealed class BrokerOptions
{
    public const string Section = "Broker";

    /// <summary>The Kafka protocol port.</summary>
    public int Port { get; set; } = 9092;

    /// <summary>
    /// Where the Kafka port listens: <c>localhost</c> (loopback only, the default), an IP address,
    /// or <c>*</c> for every interface. Anything but loopback needs
    /// <see cref="AllowUnauthenticatedRemoteClients"/>: with no authentication, whoever reaches the
    /// port may produce, read and delete every topic.
    /// </summary>
    public string Host { get; set; } = "localhost";

    /// <summary>The explicit opt-in to listen (Kafka port or console) beyond loopback without authentication; logged as a warning.</summary>
    public bool AllowUnauthenticatedRemoteClients { get; set; }

    /// <summary>What the Kafka port speaks: PLAINTEXT (default), SASL_PLAINTEXT, SSL or SASL_SSL.</summary>
    public string SecurityProtocol { get; set; } = "PLAINTEXT";

    /// <summary>More listeners, in Kafka's syntax: <c>SASL_SSL://localhost:9094,SSL://0.0.0.0:9095</c>.</summary>
    public string? Listeners { get; set; }

    /// <summary>The SASL mechanisms offered on SASL listeners, in order of preference.</summary>
    public string SaslMechanisms { get; set; } = "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN";

    /// <summary>
    /// Users whose SCRAM credentials are set at start (<c>Broker:Users:alice=password</c>): only
    /// the salted keys are stored. More can be added at run time with AlterUserScramCredentials.
    /// </summary>
    public Dictionary<string, string> Users { get; set; } = [];

    /// <summary>
    /// Whether requests are checked against ACLs (Kafka's authorizer). Off by default, as in Kafka;
    /// once on, whatever no ACL allows is refused.
    /// </summary>
    public bool AclsEnabled { get; set; }

    /// <summary>
    /// ACLs that are part of the configuration, one per entry (<c>Broker:Acls:0="ALLOW User:orders WRITE TOPIC orders"</c>):
    /// always in force, listed by DescribeAcls, not removable by DeleteAcls.
    /// </summary>
    public List<string> Acls { get; set; } = [];

    /// <summary>Principals that may do everything when ACLs are on, as Kafka's super.users: <c>User:admin;User:ops</c>.</summary>
    public string? SuperUsers { get; set; }

    /// <summary>The TLS certificate of SSL and SASL_SSL listeners: a PEM file (with <see cref="TlsKey"/>) or a PFX file.</summary>
    public string? TlsCertificate { get; set; }

    /// <summary>The PEM private key of <see cref="TlsCertificate"/>, when it is not in the same file.</summary>
    public string? TlsKey { get; set; }

    /// <summary>The password of a PFX <see cref="TlsCertificate"/> or of an encrypted PEM key.</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>The host name Metadata advertises: the address clients really reach.</summary>
    public string AdvertisedHost { get; set; } = "localhost";

    /// <summary>The port Metadata advertises, when clients reach the broker through a proxy; default <see cref="Port"/>.</summary>
    public int? AdvertisedPort { get; set; }

    /// <summary>The port clients are told to connect to.</summary>
    public int PublicPort => AdvertisedPort ?? Port;

    /// <summary>
    /// The Aspire dashboard's address, when there is one: the console links a message's
    /// <c>traceparent</c> to <c>&lt;DashboardUrl&gt;/traces/detail/&lt;trace id&gt;</c>.
    /// </summary>
    public string? DashboardUrl { get; set; }

    /// <summary>Where topics live, one folder per partition in Kafka's layout.</summary>
    public string DataDir { get; set; } = "./data";

    /// <summary>Our node id: leader of every partition and the controller.</summary>
    public int NodeId { get; set; } = 1;

    public int DefaultPartitions { get; set; } = 1;

    public bool AutoCreateTopics { get; set; } = true;

    /// <summary>
    /// Partitions the broker holds at most, over all topics. Each keeps its segments' files open
    /// (three for the segment being written, one for each older one), so without a cap one
    /// CreateTopics could spend every file descriptor of the process and leave every other client
    /// with "too many open files".
    /// </summary>
    public int MaxPartitions { get; set; } = 2000;

    /// <summary>A segment rolls when it would grow past this size.</summary>
    public long SegmentBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>A segment rolls when its first batch is older than this.</summary>
    public long SegmentMs { get; set; } = 7L * 24 * 60 * 60 * 1000;

    /// <summary>Frames larger than this close the connection (Kafka's socket.request.max.bytes).</summary>
    public int MaxFrameBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>
    /// Bytes of requests held at once over all connections (Kafka's queued.max.request.bytes). A
    /// connection waits for its frame's share before reading it: back-pressure, not buffering.
    /// At least <see cref="MaxFrameBytes"/>.
    /// </summary>
    public long MaxInFlightRequestBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Kafka connections at once (Kafka's max.connections); more are closed on arrival.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Kafka connections at once from one address (Kafka's max.connections.per.ip).</summary>
    public int MaxConnectionsPerIp { get; set; } = 1000;

    /// <summary>A connection that completes no request for this long is closed (Kafka's connections.max.idle.ms).</summary>
    public int ConnectionsMaxIdleMs { get; set; } = 600_000;

    /// <summary>
    /// When an acks=all produce is answered. <c>Always</c>: only after its bytes are fsynced (group
    /// commit shares one fsync among concurrent producers); an acknowledged record survives a power
    /// cut. <c>Interval</c>: at once, with an fsync every <see cref="FlushIntervalMs"/>; a crash of
    /// the machine (not just the broker process) can lose up to that much acknowledged data.
    /// </summary>
    public FlushPolicy FlushPolicy { get; set; } = FlushPolicy.Always;

    public int FlushIntervalMs { get; set; } = 1000;

    /// <summary>
    /// Under <c>FlushPolicy=Always</c>, bytes of zeros kept written and fsynced ahead of the end of a
    /// partition's active segment while its fsyncs are small (under 256 KiB on average): an fsync
    /// after an append into them does not commit the file system's journal, so small durable
    /// produces are answered sooner. Cut off when the segment rolls or the broker stops; 0 turns it off.
    /// </summary>
    public long PreallocateBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How often old segments are checked against retention.ms and retention.bytes.</summary>
    public int RetentionCheckIntervalMs { get; set; } = 30_000;

    /// <summary>
    /// How long the first join of an empty group waits for more members (Kafka's
    /// group.initial.rebalance.delay.ms): consumers started together then cause one rebalance.
    /// </summary>
    public int GroupInitialRebalanceDelayMs { get; set; } = 3000;

    /// <summary>An idempotent producer idle this long is forgotten (Kafka's producer.id.expiration.ms, default one day).</summary>
    public long ProducerIdExpirationMs { get; set; } = 86_400_000;

    /// <summary>Test-only: delays every fsync by this much, to show that nothing is visible before its fsync. 0 in production.</summary>
    public int TestFsyncDelayMs { get; set; }

    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new InvalidOperationException($"Broker:Port must be 0–65535, got {Port}.");
        if (string.IsNullOrWhiteSpace(Host)) throw new InvalidOperationException("Broker:Host must be set: localhost, an IP address or *.");
        if (string.IsNullOrWhiteSpace(DataDir)) throw new InvalidOperationException("Broker:DataDir must be set.");
        if (DefaultPartitions < 1) throw new InvalidOperationException($"Broker:DefaultPartitions must be at least 1, got {DefaultPartitions}.");
        if (SegmentBytes < 1024) throw new InvalidOperationException($"Broker:SegmentBytes must be at least 1024, got {SegmentBytes}.");
        if (RetentionCheckIntervalMs < 10) throw new InvalidOperationException($"Broker:RetentionCheckIntervalMs must be at least 10, got {RetentionCheckIntervalMs}.");
        if (PreallocateBytes < 0) throw new InvalidOperationException($"Broker:PreallocateBytes must not be negative (0 turns it off), got {PreallocateBytes}.");
        if (FlushIntervalMs < 1) throw new InvalidOperationException($"Broker:FlushIntervalMs must be at least 1, got {FlushIntervalMs}.");
        if (ProducerIdExpirationMs < 1) throw new InvalidOperationException($"Broker:ProducerIdExpirationMs must be at least 1, got {ProducerIdExpirationMs}.");
        if (GroupInitialRebalanceDelayMs < 0) throw new InvalidOperationException($"Broker:GroupInitialRebalanceDelayMs must not be negative, got {GroupInitialRebalanceDelayMs}.");
        if (TestFsyncDelayMs < 0) throw new InvalidOperationException($"Broker:TestFsyncDelayMs must not be negative, got {TestFsyncDelayMs}.");
        if (MaxPartitions < 1) throw new InvalidOperationException($"Broker:MaxPartitions must be at least 1, got {MaxPartitions}.");
        if (MaxFrameBytes < 1024) throw new InvalidOperationException($"Broker:MaxFrameBytes must be at least 1024, got {MaxFrameBytes}.");
        if (MaxInFlightRequestBytes < MaxFrameBytes + 4L)
            throw new InvalidOperationException($"Broker:MaxInFlightRequestBytes ({MaxInFlightRequestBytes}) must hold at least one frame of Broker:MaxFrameBytes ({MaxFrameBytes}).");
        if (MaxConnections < 1) throw new InvalidOperationException($"Broker:MaxConnections must be at least 1, got {MaxConnections}.");
        if (MaxConnectionsPerIp < 1) throw new InvalidOperationException($"Broker:MaxConnectionsPerIp must be at least 1, got {MaxConnectionsPerIp}.");
        if (ConnectionsMaxIdleMs < 100) throw new InvalidOperationException($"Broker:ConnectionsMaxIdleMs must be at least 100, got {ConnectionsMaxIdleMs}.");
    }
}

public enum FlushPolicy
{
    Always,
    Interval,
}
