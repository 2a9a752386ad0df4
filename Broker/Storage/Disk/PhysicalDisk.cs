using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Shop.Broker.Storage.Disk;

/// <summary>The real disk: <see cref="RandomAccess"/> on file handles; fdatasync of files and fsync of directories through libc.</summary>
public sealed class PhysicalDisk : IDisk
{
    public IDiskFile Open(string path, FileMode mode) =>
        new PhysicalFile(path, File.OpenHandle(path, mode, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete));

    public bool FileExists(string path) => File.Exists(path);

    public bool DirectoryExists(string path) => Directory.Exists(path);

    public void CreateDirectory(string path) => Directory.CreateDirectory(path);

    public IReadOnlyList<string> FileNames(string directory) =>
        Directory.EnumerateFiles(directory).Select(p => Path.GetFileName(p)).ToList();

    public IReadOnlyList<string> DirectoryNames(string directory) =>
        Directory.EnumerateDirectories(directory).Select(p => Path.GetFileName(p)).ToList();

    public void Rename(string from, string to) => File.Move(from, to, overwrite: true);

    public void DeleteFile(string path) => File.Delete(path);

    public void DeleteDirectory(string path) => Directory.Delete(path, recursive: false);

    public void SyncDirectory(string path)
    {
        // Windows has no directory fsync (and needs none for NTFS metadata): only Unix does this.
        if (OperatingSystem.IsWindows()) return;
        var fd = open(path, O_RDONLY | (OperatingSystem.IsLinux() ? O_DIRECTORY_LINUX : 0));
        if (fd < 0) throw new IOException($"cannot open directory {path} to fsync it: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (fsync(fd) != 0) throw new IOException($"fsync of directory {path} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            _ = close(fd);
        }
    }

    private const int O_RDONLY = 0;
    private const int O_DIRECTORY_LINUX = 0x10000;
    private const int EINTR = 4;

    // DllImport rather than LibraryImport: the generated marshalling needs unsafe code, which the broker does without.
#pragma warning disable SYSLIB1054, CA2101
    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int fdatasync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
#pragma warning restore SYSLIB1054, CA2101

    private sealed class PhysicalFile(string path, SafeFileHandle handle) : IDiskFile
    {
        public string Path { get; } = path;

        public long Length => RandomAccess.GetLength(handle);

        public int Read(Span<byte> buffer, long position)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var read = RandomAccess.Read(handle, buffer[total..], position + total);
                if (read == 0) break;
                total += read;
            }
            return total;
        }

        public void Write(ReadOnlySpan<byte> data, long position) => RandomAccess.Write(handle, data, position);

        public void SetLength(long length) => RandomAccess.SetLength(handle, length);

        /// <summary>
        /// fdatasync on Linux: the data and what is needed to read it back (the size), not the
        /// timestamps, which fsync (<see cref="RandomAccess.FlushToDisk"/>) also writes, a journal
        /// commit the log does not need. Elsewhere the runtime's flush.
        /// </summary>
        public void Sync()
        {
            if (!OperatingSystem.IsLinux())
            {
                RandomAccess.FlushToDisk(handle);
                return;
            }
            var added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                var fd = (int)handle.DangerousGetHandle();
                while (fdatasync(fd) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != EINTR) throw new IOException($"fdatasync of {Path} failed: errno {errno}");
                }
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }

        public void Dispose() => handle.Dispose();
    }
}
