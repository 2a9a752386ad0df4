using Shop.ServiceDefaults.Messaging;

namespace Shop.Contracts.Notifications;

// The notifications topic, keyed by order_id: what the customer was told.

public static class NotificationsTopic
{
    public static readonly TopicSpec Spec = new("notifications", Partitions: 3);
}

/// <summary>Notifications → notifications: the customer was told by e-mail.</summary>
public sealed record NotificationSent(string OrderId, string Recipient, string Subject) : IShopEvent
{
    public static TopicSpec Topic => NotificationsTopic.Spec;
    public string PartitionKey() => OrderId;
}
