using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>DescribeUserScramCredentials v0: each user's mechanisms and iterations (never a key); null or no users = all of them; an unknown user is RESOURCE_NOT_FOUND. Needs DESCRIBE on the cluster.</summary>
public sealed class DescribeUserScramCredentialsApi(CredentialStore credentials)
    : KafkaApi<DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DescribeUserScramCredentials, 0, 0, DescribeUserScramCredentialsRequest.FlexibleFrom);

    protected override ValueTask<DescribeUserScramCredentialsResponse?> HandleAsync(DescribeUserScramCredentialsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        if (!context.AllowsOnCluster(AclOperation.Describe))
        {
            return ValueTask.FromResult<DescribeUserScramCredentialsResponse?>(new DescribeUserScramCredentialsResponse
            {
                ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed, ErrorMessage = $"{context.Session.Principal} may not DESCRIBE the cluster",
            });
        }
        var known = credentials.Describe();
        var users = request.Users is { Count: > 0 } asked ? asked.Select(u => u.Name).Distinct().ToList() : known.Keys.Order(StringComparer.Ordinal).ToList();
        return ValueTask.FromResult<DescribeUserScramCredentialsResponse?>(new DescribeUserScramCredentialsResponse
        {
            ErrorMessage = null,
            Results = users.Select(user => known.TryGetValue(user, out var infos)
                ? new DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult
                {
                    User = user,
                    ErrorMessage = null,
                    CredentialInfos = infos.Select(i => new DescribeUserScramCredentialsResponse.CredentialInfo { Mechanism = i.Mechanism.KafkaType, Iterations = i.Iterations }).ToList(),
                }
                : new DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult
                {
                    User = user, ErrorCode = (short)ErrorCode.ResourceNotFound, ErrorMessage = $"no SCRAM credentials for user {user}",
                }).ToList(),
        });
    }
}
