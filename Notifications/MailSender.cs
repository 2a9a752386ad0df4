using Shop.ServiceDefaults;
using System.Diagnostics;
using MimeKit;
using Polly;
using Polly.CircuitBreaker;
using Shop.ServiceDefaults.Messaging;
using Shop.Contracts.Notifications;

namespace Shop.Notifications;

/// <summary>
/// Sends queued e-mails over SMTP and records them as sent together with their NotificationSent
/// events. A round sends what is queued (up to <see cref="MailQueue.RoundSize"/>) over a few SMTP
/// connections at once, kept open between rounds (<see cref="SmtpConnections"/>), and records it in
/// one transaction; a full round is followed by the next at once.
/// While SMTP fails, a circuit breaker stops hammering it; mails stay queued and go out later.
/// Each mail's Message-ID is derived from the order, so a resend after a crash is recognisable.
/// </summary>
public sealed class MailSender(MailQueue queue, ServiceDatabase database, Outbox outbox, IConfiguration configuration, ILogger<MailSender> logger)
    : BackgroundService
{
    private readonly ResiliencePipeline _smtp = new ResiliencePipelineBuilder()
        .AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            FailureRatio = 0.5, MinimumThroughput = 2, SamplingDuration = TimeSpan.FromSeconds(10), BreakDuration = TimeSpan.FromSeconds(5),
        })
        .Build();

    private static readonly ActivitySource Source = new("Shop.Notifications");

    private readonly SmtpConnections _connections = new();

    private Uri SmtpServer => new(configuration["services:mail:smtp:0"] ?? configuration["Mail:Smtp"] ?? "smtp://localhost:2525");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var connections = _connections; // closed when the sender stops
        while (!stoppingToken.IsCancellationRequested)
        {
            var queued = queue.Unsent();
            var sent = queued.Count == 0 ? [] : await SendAsync(queued, stoppingToken);
            if (sent.Count > 0) await RecordAsync(sent, stoppingToken);
            var failed = sent.Count < queued.Count;
            if (!failed && queued.Count == MailQueue.RoundSize) continue; // more are waiting
            await queue.WaitAsync(failed ? TimeSpan.FromSeconds(2) : SmtpConnections.IdleLimit, stoppingToken);
            await _connections.CloseIdleAsync();
        }
    }

    /// <summary>
    /// SMTP connections a round sends over at once. The server answers each command of a mail in
    /// turn, so one connection is bounded by round trips, not by either side's CPU: measured in the
    /// shop bench, one connection fell behind 100 orders/s and a mail came seconds after its order.
    /// </summary>
    private const int Connections = 4;

    /// <summary>Sends a round over up to <see cref="Connections"/> connections at once; returns the mails the server accepted.</summary>
    private async Task<List<(QueuedMail Mail, Activity? Span)>> SendAsync(List<QueuedMail> mails, CancellationToken cancellationToken)
    {
        var lanes = mails.Chunk((mails.Count + Connections - 1) / Connections);
        var sent = await Task.WhenAll(lanes.Select(lane => SendOverOneConnectionAsync(lane, cancellationToken)));
        return [.. sent.SelectMany(s => s)];
    }

    /// <summary>
    /// Sends the mails in order over one connection; returns those the server accepted before any
    /// failure, each with its span (its NotificationSent belongs to the same trace).
    /// </summary>
    private async Task<List<(QueuedMail Mail, Activity? Span)>> SendOverOneConnectionAsync(IReadOnlyList<QueuedMail> mails, CancellationToken cancellationToken)
    {
        var sent = new List<(QueuedMail Mail, Activity? Span)>(mails.Count);
        try
        {
            await _smtp.ExecuteAsync(async token =>
            {
                var server = SmtpServer;
                var connection = await _connections.RentAsync(server, token);
                var healthy = false;
                try
                {
                    foreach (var mail in mails.Skip(sent.Count))
                    {
                        ActivityContext.TryParse(mail.TraceParent, null, isRemote: true, out var parent);
                        using var activity = Source.StartActivity("send mail", ActivityKind.Client, parent);
                        activity?.SetTag("shop.order.id", mail.OrderId);
                        activity?.SetTag("server.address", server.Host);
                        activity?.SetTag("server.port", server.Port);
                        try
                        {
                            await connection.Client.SendAsync(Message(mail), token);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                            throw;
                        }
                        connection.Mails++;
                        sent.Add((mail, activity));
                        ShopMetrics.EmailsSent.Add(1);
                    }
                    healthy = true;
                }
                finally
                {
                    await _connections.ReturnAsync(connection, healthy);
                }
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("{Count} mails not sent yet ({Error}); they stay queued", mails.Count - sent.Count, ex.Message);
        }
        return sent;
    }

    private static MimeMessage Message(QueuedMail mail)
    {
        var message = new MimeMessage { Subject = mail.Subject, MessageId = $"order-{mail.OrderId}@shop-on-a-log" };
        message.From.Add(new MailboxAddress("Shop on a log", "shop@shop-on-a-log.local"));
        message.To.Add(MailboxAddress.Parse(mail.Recipient));
        message.Body = new TextPart("plain") { Text = mail.Body };
        return message;
    }

    private async Task RecordAsync(List<(QueuedMail Mail, Activity? Span)> sent, CancellationToken cancellationToken)
    {
        await using (var write = await database.BeginWriteAsync(cancellationToken))
        {
            foreach (var (mail, span) in sent)
            {
                MailQueue.MarkSent(write, mail.OrderId);
                outbox.Enqueue(write, new NotificationSent(mail.OrderId, mail.Recipient, mail.Subject), causedBy: span);
            }
            await write.CommitAsync();
        }
        foreach (var (mail, _) in sent) logger.LogInformation("Mailed {Recipient} about order {OrderId}", mail.Recipient, mail.OrderId);
    }
}
