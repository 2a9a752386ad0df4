using System.Globalization;
using Shop.Contracts.Orders;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Notifications.Handlers;

/// <summary>OrderCompleted / OrderRejected → one e-mail queued for the customer.</summary>
public sealed class OrderOutcomeHandler(MailQueue mails) : IEventHandler<OrderCompleted>, IEventHandler<OrderRejected>
{
    public Task HandleAsync(OrderCompleted completed, EventContext context, CancellationToken cancellationToken)
    {
        mails.Enqueue(context.Transaction, new QueuedMail(completed.OrderId, completed.Email,
            $"Your order {completed.OrderId} is confirmed",
            string.Create(CultureInfo.InvariantCulture, $"Thank you! Order {completed.OrderId} is confirmed. Total: {completed.TotalPrice:0.00}.")));
        return Task.CompletedTask;
    }

    public Task HandleAsync(OrderRejected rejected, EventContext context, CancellationToken cancellationToken)
    {
        mails.Enqueue(context.Transaction, new QueuedMail(rejected.OrderId, rejected.Email,
            $"Your order {rejected.OrderId} could not be accepted",
            $"Sorry, order {rejected.OrderId} could not be accepted: {rejected.Reason}"));
        return Task.CompletedTask;
    }
}
