namespace Switchboard.Grains.Conversations;

/// <summary>
/// The silo's slots for owners reading their whole list of direct conversations at once. When many owners activate
/// together (a cold start: the database's cache empty, every user sending), each list is a long read, and many at
/// once hold the log up while every send times out; an owner that finds no slot reads its one conversation instead.
/// </summary>
public sealed class ConversationListLoads(int slots)
{
    /// <summary>Owners per silo reading their list at once.</summary>
    public const int DefaultSlots = 4;

    private readonly SemaphoreSlim _slots = new(slots, slots);

    public ConversationListLoads()
        : this(DefaultSlots)
    {
    }

    /// <summary>Slots free now (for tests).</summary>
    internal int Free => _slots.CurrentCount;

    /// <summary>Takes a slot if one is free, without waiting.</summary>
    public bool TryEnter() => _slots.Wait(0);

    /// <summary>Waits for a slot (a list read ahead of its owner's sends, which nothing waits on).</summary>
    public Task WaitAsync() => _slots.WaitAsync();

    public void Exit() => _slots.Release();
}
