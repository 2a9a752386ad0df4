using System.Diagnostics.Metrics;

namespace Shop.ServiceDefaults;

/// <summary>
/// The shop's business metrics (meter <c>Shop.Business</c>), each recorded by the one service that
/// knows the fact: WebShop places, Orders decides, Inventory holds stock, Notifications mails, and
/// every consumer counts what it dead-letters.
/// </summary>
public static class ShopMetrics
{
    public static readonly Meter Meter = new("Shop.Business");

    public static readonly Counter<long> OrdersPlaced = Meter.CreateCounter<long>("shop.orders.placed", "{order}", "Orders accepted by WebShop");

    public static readonly Counter<long> OrdersCompleted = Meter.CreateCounter<long>("shop.orders.completed", "{order}", "Orders whose stock was reserved");

    public static readonly Counter<long> OrdersRejected = Meter.CreateCounter<long>("shop.orders.rejected", "{order}", "Orders refused by Inventory");

    public static readonly Histogram<double> SagaDuration = Meter.CreateHistogram<double>("shop.orders.saga.duration", "s",
        "From Orders storing an order as Pending to its outcome", advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        });

    public static readonly Counter<long> EmailsSent = Meter.CreateCounter<long>("shop.notifications.emails_sent", "{email}", "E-mails handed to the SMTP server");

    public static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("shop.messaging.dead_letters", "{message}",
        "Messages moved to a dead-letter topic after their retries failed");
}
