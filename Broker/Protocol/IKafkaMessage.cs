namespace Shop.Broker.Protocol;

/// <summary>A generated request, response or header (Protocol/Messages): read and written for one version.</summary>
public interface IKafkaMessage<TSelf> where TSelf : IKafkaMessage<TSelf>
{
    static abstract TSelf Read(ref KafkaReader reader, short version);

    void Write(KafkaWriter writer, short version);
}
