using System.Globalization;
using Microsoft.Data.Sqlite;
using Shop.ServiceDefaults.Messaging;
using Shop.ServiceDefaults.Messaging.Events;

namespace Shop.Notifications.Handlers;

/// <summary>OrderCompleted / OrderRejected → one e-mail queued for the customer.</summary>
public sealed class OrderOutcomeHandler(MailQueue mails) : IEventHandler
{
    public Task HandleAsync(IncomingEvent incoming, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        QueuedMail? mail = incoming.EventType switch
        {
            nameof(OrderCompleted) when incoming.As<OrderCompleted>() is var c => new QueuedMail(c.OrderId, c.Email,
                $"Your order {c.OrderId} is confirmed",
                string.Create(CultureInfo.InvariantCulture, $"Thank you! Order {c.OrderId} is confirmed. Total: {c.TotalPrice:0.00}.")),
            nameof(OrderRejected) when incoming.As<OrderRejected>() is var r => new QueuedMail(r.OrderId, r.Email,
                $"Your order {r.OrderId} could not be accepted",
                $"Sorry, order {r.OrderId} could not be accepted: {r.Reason}"),
            _ => null,
        };
        if (mail is not null) MailQueue.Enqueue(transaction, mail);
        return Task.CompletedTask;
    }

    public void Committed() => mails.Notify();
}
