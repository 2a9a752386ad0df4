using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// AlterUserScramCredentials v0: adds, replaces and deletes users' SCRAM credentials, durably. The
/// client sends the salt and the salted password (it never sends the password); the broker keeps
/// only StoredKey and ServerKey derived from them. Refused per user, as Kafka does: an unknown
/// mechanism, iterations outside 4096–16384, an empty name or salt, a user named twice, or the
/// deletion of a credential that does not exist. Needs ALTER on the cluster.
/// </summary>
public sealed class AlterUserScramCredentialsApi(CredentialStore credentials, ILogger<AlterUserScramCredentialsApi> logger)
    : KafkaApi<AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.AlterUserScramCredentials, 0, 0, AlterUserScramCredentialsRequest.FlexibleFrom);

    protected override ValueTask<AlterUserScramCredentialsResponse?> HandleAsync(AlterUserScramCredentialsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var changes = request.Deletions.Select(d => (d.Name, d.Mechanism, Upsertion: (AlterUserScramCredentialsRequest.ScramCredentialUpsertion?)null))
            .Concat(request.Upsertions.Select(u => (u.Name, u.Mechanism, Upsertion: (AlterUserScramCredentialsRequest.ScramCredentialUpsertion?)u)))
            .ToList();
        var results = new List<AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult>();
        var allowed = context.AllowsOnCluster(AclOperation.Alter);
        foreach (var user in changes.Select(c => c.Name).Distinct())
        {
            var mine = changes.Where(c => c.Name == user).ToList();
            var (error, message) = allowed ? Apply(user, mine, context.Session.Principal)
                : (ErrorCode.ClusterAuthorizationFailed, $"{context.Session.Principal} may not ALTER the cluster");
            results.Add(new() { User = user, ErrorCode = (short)error, ErrorMessage = message });
        }
        return ValueTask.FromResult<AlterUserScramCredentialsResponse?>(new AlterUserScramCredentialsResponse { Results = results });
    }

    private (ErrorCode, string?) Apply(string user, List<(string Name, sbyte Mechanism, AlterUserScramCredentialsRequest.ScramCredentialUpsertion? Upsertion)> changes, string by)
    {
        if (user.Length == 0) return (ErrorCode.UnacceptableCredential, "the user name is empty");
        if (changes.GroupBy(c => c.Mechanism).Any(g => g.Count() > 1)) return (ErrorCode.DuplicateResource, $"user {user} is named twice for one mechanism");
        foreach (var change in changes)
        {
            if (ScramMechanism.ByKafkaType(change.Mechanism) is null) return (ErrorCode.UnsupportedSaslMechanism, $"unknown SCRAM mechanism {change.Mechanism}");
            if (change.Upsertion is { } u)
            {
                if (u.Iterations is < ScramMechanism.MinIterations or > ScramMechanism.MaxIterations)
                    return (ErrorCode.UnacceptableCredential, $"iterations must be {ScramMechanism.MinIterations}–{ScramMechanism.MaxIterations}, got {u.Iterations}");
                if (u.Salt.IsEmpty || u.SaltedPassword.IsEmpty) return (ErrorCode.UnacceptableCredential, "the salt and the salted password must not be empty");
            }
            else if (credentials.Find(user, ScramMechanism.ByKafkaType(change.Mechanism)!) is null)
            {
                return (ErrorCode.ResourceNotFound, $"user {user} has no {ScramMechanism.ByKafkaType(change.Mechanism)!.Name} credential to delete");
            }
        }
        foreach (var change in changes)
        {
            var mechanism = ScramMechanism.ByKafkaType(change.Mechanism)!;
            if (change.Upsertion is { } u) credentials.Upsert(user, mechanism, mechanism.CredentialFrom(u.SaltedPassword.ToArray(), u.Salt.ToArray(), u.Iterations));
            else credentials.Delete(user, mechanism);
            logger.LogInformation("{By} {Change} the {Mechanism} credential of {User}", by, change.Upsertion is null ? "deleted" : "set", mechanism.Name, user);
        }
        return (ErrorCode.None, null);
    }
}
