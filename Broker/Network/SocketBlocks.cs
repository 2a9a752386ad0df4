using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Shop.Broker.Network;

/// <summary>
/// The memory Kestrel reads sockets into and writes answers from, in blocks of
/// <see cref="BlockSize"/> instead of Kestrel's 4 KiB: a socket read fills at most one block, and a
/// 1 MB Produce took 256 reads (and as many wake-ups of the connection) with 4 KiB ones. Blocks are
/// pinned (sockets hand them to the kernel) and kept for reuse up to <see cref="MaxKept"/>; beyond
/// that a returned block is left to the garbage collector.
/// </summary>
internal sealed class SocketBlocks : MemoryPool<byte>
{
    public const int BlockSize = 64 * 1024;

    /// <summary>Blocks kept for reuse: enough for a few hundred busy connections (16 MiB).</summary>
    private const int MaxKept = 256;

    private readonly ConcurrentStack<Block> _kept = new();
    private int _keptCount;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        // The pipes never ask for more than MaxBufferSize; anything else gets an array of its own.
        if (minBufferSize > BlockSize) return new Block(null, GC.AllocateUninitializedArray<byte>(minBufferSize, pinned: true));
        if (_kept.TryPop(out var block))
        {
            Interlocked.Decrement(ref _keptCount);
            return block;
        }
        return new Block(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true));
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _keptCount) > MaxKept)
        {
            Interlocked.Decrement(ref _keptCount);
            return;
        }
        _kept.Push(block);
    }

    protected override void Dispose(bool disposing) => _kept.Clear();

    private sealed class Block(SocketBlocks? pool, byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = array;

        public void Dispose() => pool?.Return(this);
    }

    /// <summary>Kestrel asks the container for its pools; this one hands out <see cref="SocketBlocks"/>.</summary>
    public sealed class Factory : IMemoryPoolFactory<byte>
    {
        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new SocketBlocks();
    }
}
