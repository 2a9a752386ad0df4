using Shop.ServiceDefaults;
using System.Diagnostics;
using MailKit.Net.Smtp;
using MimeKit;
using Polly;
using Polly.CircuitBreaker;
using Shop.ServiceDefaults.Messaging;
using Shop.Contracts.Notifications;

namespace Shop.Notifications;

/// <summary>
/// Sends queued e-mails over SMTP and records each as sent together with its NotificationSent event.
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

    private Uri SmtpServer => new(configuration["services:mail:smtp:0"] ?? configuration["Mail:Smtp"] ?? "smtp://localhost:2525");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var sentAll = true;
            foreach (var mail in queue.Unsent())
            {
                ActivityContext.TryParse(mail.TraceParent, null, isRemote: true, out var parent);
                using var activity = Source.StartActivity("send mail", ActivityKind.Client, parent);
                activity?.SetTag("shop.order.id", mail.OrderId);
                activity?.SetTag("server.address", SmtpServer.Host);
                activity?.SetTag("server.port", SmtpServer.Port);
                try
                {
                    await _smtp.ExecuteAsync(async token => await SendAsync(mail, token), stoppingToken);
                    await RecordAsync(mail, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                    logger.LogWarning("Mail for order {OrderId} not sent yet ({Error}); it stays queued", mail.OrderId, ex.Message);
                    sentAll = false;
                    break;
                }
            }
            await queue.WaitAsync(sentAll ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(2), stoppingToken);
        }
    }

    private async Task SendAsync(QueuedMail mail, CancellationToken cancellationToken)
    {
        var message = new MimeMessage { Subject = mail.Subject, MessageId = $"order-{mail.OrderId}@shop-on-a-log" };
        message.From.Add(new MailboxAddress("Shop on a log", "shop@shop-on-a-log.local"));
        message.To.Add(MailboxAddress.Parse(mail.Recipient));
        message.Body = new TextPart("plain") { Text = mail.Body };
        using var client = new SmtpClient();
        var server = SmtpServer;
        await client.ConnectAsync(server.Host, server.Port, MailKit.Security.SecureSocketOptions.None, cancellationToken);
        await client.SendAsync(message, cancellationToken);
        ShopMetrics.EmailsSent.Add(1);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    private async Task RecordAsync(QueuedMail mail, CancellationToken cancellationToken)
    {
        await using (var write = await database.BeginWriteAsync(cancellationToken))
        {
            MailQueue.MarkSent(write, mail.OrderId);
            outbox.Enqueue(write, new NotificationSent(mail.OrderId, mail.Recipient, mail.Subject));
            await write.CommitAsync();
        }
        logger.LogInformation("Mailed {Recipient} about order {OrderId}", mail.Recipient, mail.OrderId);
    }
}
