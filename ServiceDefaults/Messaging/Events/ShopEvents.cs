namespace Shop.ServiceDefaults.Messaging.Events;

// The shop's events. JSON field names are the seed's (snake_case: order_id, user_id, items,
// product_id, quantity, price, total_price); the event type travels in the `event-type` header.

public sealed record OrderItem(string ProductId, int Quantity, decimal Price);

/// <summary>WebShop → orders: a customer placed an order (validated, total recomputed).</summary>
public sealed record OrderPlaced(string OrderId, string UserId, string Email, IReadOnlyList<OrderItem> Items, decimal TotalPrice);

/// <summary>Orders → orders: the order is stored as Pending; Inventory should reserve its lines.</summary>
public sealed record ItemsOrdered(string OrderId, IReadOnlyList<OrderItem> Items);

/// <summary>Inventory → inventory: every line of the order is reserved.</summary>
public sealed record StockReserved(string OrderId);

/// <summary>Inventory → inventory: nothing was reserved, and why.</summary>
public sealed record StockRejected(string OrderId, string Reason);

/// <summary>Orders → orders: the saga ended well.</summary>
public sealed record OrderCompleted(string OrderId, string UserId, string Email, decimal TotalPrice);

/// <summary>Orders → orders: the saga ended with a refusal.</summary>
public sealed record OrderRejected(string OrderId, string UserId, string Email, string Reason);

/// <summary>Inventory → stock-levels (compacted, keyed by product): the current level of one product.</summary>
public sealed record StockLevelChanged(string ProductId, int Quantity);

/// <summary>Notifications → notifications: the customer was told by e-mail.</summary>
public sealed record NotificationSent(string OrderId, string Recipient, string Subject);
