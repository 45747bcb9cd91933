using System.Runtime.InteropServices;

namespace Learn.Bench;

/// <summary>
/// CPU time consumed by the calling thread (Linux CLOCK_THREAD_CPUTIME_ID). On a shared machine it leaves out
/// the time the thread spent waiting for a core, so single-threaded comparisons stay meaningful under load.
/// It says nothing about multi-threaded runs, whose work happens on other threads.
/// </summary>
internal static partial class ThreadClock
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>True where the clock can be read.</summary>
    public static bool Available => OperatingSystem.IsLinux();

    /// <summary>The calling thread's CPU time, in ms.</summary>
    public static double NowMs()
    {
        if (clock_gettime(ClockThreadCpuTimeId, out Timespec t) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        }

        return (t.Seconds * 1e3) + (t.Nanoseconds / 1e6);
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int clock_gettime(int clockId, out Timespec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
