namespace Shop.ProtocolGen;

/// <summary>
/// Which schemas become C# types, and where they go. Regenerate with
/// <c>dotnet run --project tools/ProtocolGen</c> from the repository root.
/// </summary>
public static class ProtocolGenerator
{
    public const string Command = "dotnet run --project tools/ProtocolGen";

    /// <summary>The APIs the broker serves, those issue 13 adds, and SASL for the security work.</summary>
    public static readonly string[] Apis =
    [
        "Produce", "Fetch", "ListOffsets", "Metadata", "OffsetCommit", "OffsetFetch", "FindCoordinator",
        "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups", "SaslHandshake",
        "ApiVersions", "CreateTopics", "DeleteTopics", "DeleteRecords", "InitProducerId", "DescribeConfigs",
        "AlterConfigs", "SaslAuthenticate", "CreatePartitions", "DeleteGroups", "IncrementalAlterConfigs", "OffsetDelete",
        "OffsetForLeaderEpoch", "DescribeUserScramCredentials", "AlterUserScramCredentials", "CreateAcls", "DescribeAcls", "DeleteAcls",
    ];

    public static IEnumerable<string> SchemaNames =>
        Apis.SelectMany(api => new[] { api + "Request", api + "Response" }).Append("RequestHeader").Append("ResponseHeader");

    /// <summary>File name → generated source, for every schema in <see cref="SchemaNames"/>.</summary>
    public static SortedDictionary<string, string> Generate(string schemaDirectory)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in SchemaNames)
        {
            var schema = MessageSchema.Load(Path.Combine(schemaDirectory, name + ".json"));
            files[name + ".cs"] = new MessageEmitter(schema).Emit(name + ".json");
        }
        return files;
    }

    /// <summary>Replaces every .cs file in <paramref name="outputDirectory"/> (which holds generated code only).</summary>
    public static void WriteAll(string schemaDirectory, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        foreach (var stale in Directory.GetFiles(outputDirectory, "*.cs")) File.Delete(stale);
        foreach (var (file, source) in Generate(schemaDirectory)) File.WriteAllText(Path.Combine(outputDirectory, file), source);
    }

    /// <summary>The repository root: the nearest folder up from <paramref name="start"/> holding Shop.sln.</summary>
    public static string FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shop.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"No Shop.sln above {start}");
    }

    /// <summary>The schemas sit beside the repository, in ../shared/kafka-protocol/messages.</summary>
    public static string DefaultSchemaDirectory(string root) => Path.GetFullPath(Path.Combine(root, "..", "shared", "kafka-protocol", "messages"));

    public static string DefaultOutputDirectory(string root) => Path.Combine(root, "Broker", "Protocol", "Messages");
}
