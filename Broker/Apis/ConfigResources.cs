using Shop.Broker.Protocol;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>What AlterConfigs and IncrementalAlterConfigs share: which resources may change, and the errors.</summary>
internal static class ConfigResources
{
    public const sbyte Topic = 2;
    public const sbyte Broker = 4;

    /// <summary>Why this principal may not do <paramref name="operation"/> on the resource's configs (topic: on the topic; broker: on the cluster), or null.</summary>
    public static (ErrorCode Error, string Message)? Refusal(KafkaRequest context, sbyte resourceType, string name, AclOperation operation)
    {
        var verb = operation == AclOperation.AlterConfigs ? "ALTER_CONFIGS" : "DESCRIBE_CONFIGS";
        if (resourceType == Topic && !context.AllowsOnTopic(operation, name))
            return (ErrorCode.TopicAuthorizationFailed, $"{context.Session.Principal} may not {verb} topic '{name}'.");
        if (resourceType == Broker && !context.AllowsOnCluster(operation))
            return (ErrorCode.ClusterAuthorizationFailed, $"{context.Session.Principal} may not {verb} the cluster.");
        return null;
    }

    /// <summary>Runs a change of one resource's configs and turns the outcome into Kafka's error code and message.</summary>
    public static (ErrorCode Error, string? Message) Apply(LogManager logs, sbyte resourceType, string name, Func<bool> change)
    {
        if (resourceType == Broker)
            return (ErrorCode.InvalidRequest, "Broker settings are static here (appsettings, environment, command line); restart to change them.");
        if (resourceType != Topic) return (ErrorCode.InvalidRequest, $"Resource type {resourceType} has no configs here.");
        try
        {
            return change() ? (ErrorCode.None, null) : (ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
        }
        catch (Exception ex) when (ex is InvalidConfigException or IOException)
        {
            return (ErrorMapping.ToErrorCode(ex), ex.Message);
        }
    }
}
