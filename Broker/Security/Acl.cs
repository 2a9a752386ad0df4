namespace Shop.Broker.Security;

/// <summary>Kafka's resource types, with their wire codes.</summary>
public enum ResourceType : sbyte { Unknown = 0, Any = 1, Topic = 2, Group = 3, Cluster = 4, TransactionalId = 5, DelegationToken = 6, User = 7 }

/// <summary>How an ACL names resources: one name (or "*"), or every name with a prefix. Any and Match exist only in filters.</summary>
public enum PatternType : sbyte { Unknown = 0, Any = 1, Match = 2, Literal = 3, Prefixed = 4 }

/// <summary>Kafka's operations, with their wire codes.</summary>
public enum AclOperation : sbyte
{
    Unknown = 0, Any = 1, All = 2, Read = 3, Write = 4, Create = 5, Delete = 6, Alter = 7, Describe = 8,
    ClusterAction = 9, DescribeConfigs = 10, AlterConfigs = 11, IdempotentWrite = 12, CreateTokens = 13, DescribeTokens = 14,
}

public enum AclPermission : sbyte { Unknown = 0, Any = 1, Deny = 2, Allow = 3 }

/// <summary>
/// One ACL: <paramref name="Principal"/> (<c>User:name</c>, or <c>User:*</c> for everyone) from
/// <paramref name="Host"/> (an IP or <c>*</c>) is allowed or denied <paramref name="Operation"/>
/// on the resources the pattern names.
/// </summary>
public sealed record AclBinding(ResourceType ResourceType, string ResourceName, PatternType PatternType,
    string Principal, string Host, AclOperation Operation, AclPermission Permission)
{
    public const string ClusterName = "kafka-cluster";
    public const string Wildcard = "*";

    /// <summary>Whether this ACL speaks about that resource.</summary>
    public bool Covers(ResourceType type, string name) => ResourceType == type && PatternType switch
    {
        PatternType.Literal => ResourceName == name || ResourceName == Wildcard,
        PatternType.Prefixed => name.StartsWith(ResourceName, StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>Whether this ACL speaks about that principal from that host.</summary>
    public bool Concerns(string principal, string host) =>
        (Principal == principal || Principal == "User:*") && (Host == Wildcard || Host == host);

    /// <summary>
    /// Whether it grants (or denies) <paramref name="operation"/>. As in Kafka: ALL covers everything;
    /// an allowed READ, WRITE, DELETE or ALTER implies DESCRIBE, and ALTER_CONFIGS implies DESCRIBE_CONFIGS.
    /// A deny applies only to what it names (or ALL).
    /// </summary>
    public bool Grants(AclOperation operation) =>
        Operation == AclOperation.All || Operation == operation
        || (Permission == AclPermission.Allow && operation == AclOperation.Describe
            && Operation is AclOperation.Read or AclOperation.Write or AclOperation.Delete or AclOperation.Alter)
        || (Permission == AclPermission.Allow && operation == AclOperation.DescribeConfigs && Operation == AclOperation.AlterConfigs);

    public override string ToString() =>
        $"{Permission.ToString().ToUpperInvariant()} {Principal} {Operation.ToString().ToUpperInvariant()} {ResourceType.ToString().ToUpperInvariant()} "
        + $"{(PatternType == PatternType.Prefixed ? "PREFIXED " : "")}{ResourceName}{(Host == Wildcard ? "" : $" HOST {Host}")}";

    /// <summary>
    /// An ACL written as configuration (<c>Broker:Acls</c>), in the words <see cref="ToString"/> uses:
    /// <c>ALLOW User:orders WRITE TOPIC orders</c>, <c>ALLOW User:webshop READ GROUP PREFIXED webshop</c>,
    /// <c>DENY User:* DELETE TOPIC * HOST 10.0.0.9</c>.
    /// </summary>
    public static AclBinding Parse(string text)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var at = 0;
        string Next(string what) => at < words.Length ? words[at++] : throw new FormatException($"ACL '{text}': {what} is missing");
        T Word<T>(string what) where T : struct, Enum
        {
            var word = Next(what).Replace("_", "", StringComparison.Ordinal);
            return Enum.TryParse<T>(word, ignoreCase: true, out var value) && Enum.IsDefined(value)
                ? value
                : throw new FormatException($"ACL '{text}': '{word}' is not a {what} ({string.Join(", ", Enum.GetNames<T>())})");
        }
        var permission = Word<AclPermission>("permission");
        var principal = Next("principal");
        var operation = Word<AclOperation>("operation");
        var type = Word<ResourceType>("resource type");
        var pattern = PatternType.Literal;
        var name = Next("resource name");
        if (name.Equals("PREFIXED", StringComparison.OrdinalIgnoreCase) || name.Equals("LITERAL", StringComparison.OrdinalIgnoreCase))
        {
            pattern = Enum.Parse<PatternType>(name, ignoreCase: true);
            name = Next("resource name");
        }
        var host = Wildcard;
        if (at < words.Length)
        {
            if (!Next("HOST").Equals("HOST", StringComparison.OrdinalIgnoreCase)) throw new FormatException($"ACL '{text}': only HOST <ip> may follow the resource name");
            host = Next("host");
        }
        if (at < words.Length) throw new FormatException($"ACL '{text}': unexpected '{words[at]}'");
        var acl = new AclBinding(type, name, pattern, principal, host, operation, permission);
        return acl.Problem() is { } problem ? throw new FormatException($"ACL '{text}': {problem}") : acl;
    }

    /// <summary>What is wrong with it as an ACL to create, or null.</summary>
    public string? Problem()
    {
        if (ResourceType is ResourceType.Unknown or ResourceType.Any || !Enum.IsDefined(ResourceType)) return $"resource type {ResourceType} cannot be given an ACL";
        if (PatternType is not (PatternType.Literal or PatternType.Prefixed)) return $"pattern type {PatternType} is for filters; use LITERAL or PREFIXED";
        if (string.IsNullOrEmpty(ResourceName)) return "the resource name is empty";
        if (ResourceType == ResourceType.Cluster && ResourceName != ClusterName) return $"the cluster resource is named {ClusterName}";
        if (!Principal.StartsWith("User:", StringComparison.Ordinal) || Principal.Length == "User:".Length) return $"principal '{Principal}' is not User:<name>";
        if (string.IsNullOrEmpty(Host)) return "the host is empty (use * for any)";
        if (Operation is AclOperation.Unknown or AclOperation.Any || !Enum.IsDefined(Operation)) return $"operation {Operation} cannot be granted";
        if (Permission is not (AclPermission.Allow or AclPermission.Deny)) return $"permission {Permission} is neither ALLOW nor DENY";
        return null;
    }
}

/// <summary>A pattern over ACLs, as DescribeAcls and DeleteAcls take it: null and ANY match everything.</summary>
public sealed record AclFilter(ResourceType ResourceType, string? ResourceName, PatternType PatternType,
    string? Principal, string? Host, AclOperation Operation, AclPermission Permission)
{
    public bool Matches(AclBinding acl) =>
        (ResourceType == ResourceType.Any || ResourceType == acl.ResourceType)
        && NameMatches(acl)
        && (Principal is null || Principal == acl.Principal)
        && (Host is null || Host == acl.Host)
        && (Operation == AclOperation.Any || Operation == acl.Operation)
        && (Permission == AclPermission.Any || Permission == acl.Permission);

    private bool NameMatches(AclBinding acl) => PatternType switch
    {
        PatternType.Any => ResourceName is null || ResourceName == acl.ResourceName,
        // MATCH: every ACL that applies to a resource of this name.
        PatternType.Match => ResourceName is null || acl.Covers(acl.ResourceType, ResourceName),
        _ => PatternType == acl.PatternType && (ResourceName is null || ResourceName == acl.ResourceName),
    };
}
