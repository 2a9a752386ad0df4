namespace Shop.Broker.Security;

/// <summary>The SASL mechanisms this broker offers (<c>Broker:SaslMechanisms</c>), each verified against the <see cref="CredentialStore"/>.</summary>
public sealed class SaslMechanisms
{
    public const string Plain = "PLAIN";

    private readonly CredentialStore _credentials;

    public SaslMechanisms(BrokerOptions options, CredentialStore credentials)
    {
        _credentials = credentials;
        Enabled = options.SaslMechanisms.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var unknown = Enabled.Where(m => m != Plain && ScramMechanism.ByName(m) is null).ToList();
        if (unknown.Count > 0 || Enabled.Count == 0)
            throw new InvalidOperationException($"Broker:SaslMechanisms: '{options.SaslMechanisms}' must list some of SCRAM-SHA-512, SCRAM-SHA-256, PLAIN.");
    }

    public IReadOnlyList<string> Enabled { get; }

    /// <summary>A new exchange for one authentication, or null when the mechanism is not offered.</summary>
    public ISaslExchange? Start(string mechanism)
    {
        if (!Enabled.Contains(mechanism)) return null;
        return mechanism == Plain ? new PlainExchange(_credentials) : new ScramExchange(ScramMechanism.ByName(mechanism)!, _credentials);
    }
}
