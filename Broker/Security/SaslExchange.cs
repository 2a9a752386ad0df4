using System.Security.Cryptography;
using System.Text;

namespace Shop.Broker.Security;

/// <summary>One step of a SASL exchange: the bytes to send back, and whether it ended (with a user, or refused).</summary>
public sealed record SaslStep(byte[] Challenge, bool Done, string? User, string? Refusal)
{
    public static SaslStep Continue(byte[] challenge) => new(challenge, false, null, null);

    public static SaslStep Authenticated(string user, byte[] final) => new(final, true, user, null);

    public static SaslStep Refused(string why) => new([], true, null, why);
}

/// <summary>The server side of one SASL mechanism, for one connection's authentication.</summary>
public interface ISaslExchange
{
    SaslStep Evaluate(ReadOnlySpan<byte> response);
}

/// <summary>SASL PLAIN (RFC 4616): "authzid NUL user NUL password", checked against the user's stored SCRAM credential.</summary>
public sealed class PlainExchange(CredentialStore credentials) : ISaslExchange
{
    public SaslStep Evaluate(ReadOnlySpan<byte> response)
    {
        var parts = Encoding.UTF8.GetString(response).Split('\0');
        if (parts.Length != 3 || parts[1].Length == 0) return SaslStep.Refused("a PLAIN message is authzid NUL user NUL password");
        var (authorizationId, user, password) = (parts[0], parts[1], parts[2]);
        if (authorizationId.Length > 0 && authorizationId != user) return SaslStep.Refused("authorizing as another user is not supported");
        return credentials.Verify(user, password) ? SaslStep.Authenticated(user, []) : SaslStep.Refused(CredentialStore.InvalidCredentials);
    }
}

/// <summary>
/// SCRAM (RFC 5802) in two round trips: client-first → server-first (nonce, salt, iterations),
/// client-final with the proof → server-final with the server's signature. An unknown user and a
/// wrong password are refused alike, so the answer does not tell which users exist.
/// </summary>
public sealed class ScramExchange(ScramMechanism mechanism, CredentialStore credentials, Func<string>? serverNonce = null) : ISaslExchange
{
    private string? _clientFirstBare;
    private string? _serverFirst;
    private string? _gs2Header;
    private string? _nonce;
    private string? _user;
    private ScramCredential? _credential;

    public SaslStep Evaluate(ReadOnlySpan<byte> response)
    {
        var message = Encoding.UTF8.GetString(response);
        return _serverFirst is null ? First(message) : Final(message);
    }

    private SaslStep First(string message)
    {
        // gs2-header: "n,," (no channel binding), optionally with an authzid "n,a=user,".
        var second = message.IndexOf(',', message.IndexOf(',') + 1);
        if (second < 0 || !(message.StartsWith("n,", StringComparison.Ordinal) || message.StartsWith("y,", StringComparison.Ordinal)))
            return SaslStep.Refused("a SCRAM client-first message starts with 'n,,' (channel binding is not supported)");
        _gs2Header = message[..(second + 1)];
        _clientFirstBare = message[(second + 1)..];
        var attributes = Attributes(_clientFirstBare);
        if (!attributes.TryGetValue('n', out var name) || !attributes.TryGetValue('r', out var clientNonce) || clientNonce.Length == 0)
            return SaslStep.Refused("a SCRAM client-first message needs n=user and r=nonce");
        if (_clientFirstBare.Contains("tokenauth=true", StringComparison.Ordinal))
            return SaslStep.Refused("delegation tokens are not supported");
        _user = name.Replace("=2C", ",", StringComparison.Ordinal).Replace("=3D", "=", StringComparison.Ordinal);
        var authorizationId = _gs2Header.Split(',')[1];
        if (authorizationId.Length > 0 && authorizationId != $"a={name}") return SaslStep.Refused("authorizing as another user is not supported");

        _credential = credentials.Find(_user, mechanism);
        if (_credential is null) return SaslStep.Refused(CredentialStore.InvalidCredentials);
        _nonce = clientNonce + (serverNonce?.Invoke() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));
        _serverFirst = $"r={_nonce},s={Convert.ToBase64String(_credential.Salt)},i={_credential.Iterations}";
        return SaslStep.Continue(Encoding.UTF8.GetBytes(_serverFirst));
    }

    private SaslStep Final(string message)
    {
        if (_credential is null) return SaslStep.Refused("the SCRAM exchange is over");
        var proofAt = message.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0) return SaslStep.Refused("a SCRAM client-final message ends with p=proof");
        var withoutProof = message[..proofAt];
        var attributes = Attributes(withoutProof);
        if (attributes.GetValueOrDefault('c') != Convert.ToBase64String(Encoding.UTF8.GetBytes(_gs2Header!)))
            return SaslStep.Refused("the channel binding (c=) does not match the client-first message");
        // Kafka checks only that the nonce ends with the one it sent: librdkafka before 2.1 (kcat 1.7
        // on Debian) puts its own nonce in front once more, and the proof is computed over what it sent.
        if (attributes.GetValueOrDefault('r') is not { } nonce || !nonce.EndsWith(_nonce!, StringComparison.Ordinal))
            return SaslStep.Refused("the nonce (r=) is not the one this exchange agreed");
        byte[] proof;
        try
        {
            proof = Convert.FromBase64String(message[(proofAt + 3)..]);
        }
        catch (FormatException)
        {
            return SaslStep.Refused("the proof (p=) is not base64");
        }
        if (proof.Length != mechanism.HashBytes) return SaslStep.Refused(CredentialStore.InvalidCredentials);

        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
        var clientSignature = mechanism.Hmac(_credential.StoredKey, authMessage);
        var clientKey = new byte[proof.Length];
        for (var i = 0; i < proof.Length; i++) clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        if (!CryptographicOperations.FixedTimeEquals(mechanism.Digest(clientKey), _credential.StoredKey))
            return SaslStep.Refused(CredentialStore.InvalidCredentials);

        var serverSignature = mechanism.Hmac(_credential.ServerKey, authMessage);
        _credential = null;
        return SaslStep.Authenticated(_user!, Encoding.UTF8.GetBytes($"v={Convert.ToBase64String(serverSignature)}"));
    }

    /// <summary>"a=x,b=y" → {a: x, b: y}; values may contain '='.</summary>
    private static Dictionary<char, string> Attributes(string message)
    {
        var attributes = new Dictionary<char, string>();
        foreach (var part in message.Split(','))
        {
            if (part.Length >= 2 && part[1] == '=') attributes.TryAdd(part[0], part[2..]);
        }
        return attributes;
    }
}
