using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>What AlterConfigs and IncrementalAlterConfigs share: which resources may change, and the errors.</summary>
internal static class ConfigResources
{
    public const sbyte Topic = 2;
    public const sbyte Broker = 4;

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
