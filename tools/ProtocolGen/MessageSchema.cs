using System.Text.Json;

namespace Shop.ProtocolGen;

/// <summary>One field of a Kafka message schema; struct-typed fields carry their own fields.</summary>
public sealed class FieldSchema
{
    public required string Name { get; init; }
    public required string Type { get; init; }
    public VersionSpan Versions { get; init; }
    public VersionSpan NullableVersions { get; init; }
    public VersionSpan TaggedVersions { get; init; }
    public int? Tag { get; init; }
    /// <summary>A field-level override of the message's flexible versions (RequestHeader's ClientId: "none").</summary>
    public VersionSpan? FlexibleVersions { get; init; }
    public string? Default { get; init; }
    public string? About { get; init; }
    public IReadOnlyList<FieldSchema>? Fields { get; init; }

    public bool IsArray => Type.StartsWith("[]", StringComparison.Ordinal);

    public string ElementType => IsArray ? Type[2..] : Type;

    public bool IsStruct => !Primitives.Contains(ElementType);

    public static readonly HashSet<string> Primitives =
        ["bool", "int8", "int16", "uint16", "int32", "int64", "float64", "uuid", "string", "bytes", "records"];

    public static FieldSchema Parse(JsonElement json) => new()
    {
        // A few schemas spell a field in camelCase (CreateTopicsRequest's timeoutMs): C# properties are PascalCase.
        Name = Pascal(json.GetProperty("name").GetString()!),
        Type = json.GetProperty("type").GetString()!,
        Versions = VersionSpan.Parse(Text(json, "versions")),
        NullableVersions = VersionSpan.Parse(Text(json, "nullableVersions")),
        TaggedVersions = VersionSpan.Parse(Text(json, "taggedVersions")),
        // One schema (BrokerHeartbeatRequest) writes its tag as a string.
        Tag = json.TryGetProperty("tag", out var tag) ? tag.ValueKind == JsonValueKind.String ? int.Parse(tag.GetString()!) : tag.GetInt32() : null,
        FlexibleVersions = Text(json, "flexibleVersions") is { } flexible ? VersionSpan.Parse(flexible) : null,
        Default = json.TryGetProperty("default", out var value) ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText() : null,
        About = Text(json, "about"),
        Fields = json.TryGetProperty("fields", out var fields) ? fields.EnumerateArray().Select(Parse).ToList() : null,
    };

    private static string Pascal(string name) => char.ToUpperInvariant(name[0]) + name[1..];

    internal static string? Text(JsonElement json, string name) => json.TryGetProperty(name, out var value) ? value.GetString() : null;
}

/// <summary>A message schema from Kafka's <c>clients/src/main/resources/common/message</c>: request, response or header.</summary>
public sealed class MessageSchema
{
    public required string Name { get; init; }
    public required string Kind { get; init; }
    public short? ApiKey { get; init; }
    public VersionSpan ValidVersions { get; init; }
    public VersionSpan FlexibleVersions { get; init; }
    public required IReadOnlyList<FieldSchema> Fields { get; init; }
    /// <summary>Structs declared once and referenced by name from several fields.</summary>
    public required IReadOnlyList<FieldSchema> CommonStructs { get; init; }

    /// <summary>Parses a schema file; they are JSON with // comments, which the parser skips.</summary>
    public static MessageSchema Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = document.RootElement;
        return new MessageSchema
        {
            Name = root.GetProperty("name").GetString()!,
            Kind = root.GetProperty("type").GetString()!,
            ApiKey = root.TryGetProperty("apiKey", out var key) ? key.GetInt16() : null,
            ValidVersions = VersionSpan.Parse(FieldSchema.Text(root, "validVersions")),
            FlexibleVersions = VersionSpan.Parse(FieldSchema.Text(root, "flexibleVersions")),
            Fields = root.GetProperty("fields").EnumerateArray().Select(FieldSchema.Parse).ToList(),
            CommonStructs = root.TryGetProperty("commonStructs", out var common)
                ? common.EnumerateArray().Select(s => new FieldSchema
                {
                    Name = s.GetProperty("name").GetString()!,
                    Type = s.GetProperty("name").GetString()!,
                    Versions = VersionSpan.Parse(FieldSchema.Text(s, "versions")),
                    Fields = s.GetProperty("fields").EnumerateArray().Select(FieldSchema.Parse).ToList(),
                }).ToList()
                : [],
        };
    }
}
