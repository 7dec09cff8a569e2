package io.galore4j.trainer.run;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One process per run directory: an exclusive operating-system lock on {@code DIR/.lock}, which
 * holds the owner's process id. The kernel releases the lock when the process ends, however it
 * ends, so a killed run never leaves its directory locked. The file itself stays behind (hidden,
 * empty of meaning once unlocked): deleting it on release would let a process that opened it just
 * before the deletion lock an orphaned file while a third process locks a new one.
 *
 * <p>Locks held by this JVM are also tracked in memory: POSIX file locks belong to the process, and
 * closing any channel on the file would release them, so a second attempt from the same process is
 * refused without opening the file.
 */
public final class RunLock implements Closeable {

    /** The lock file's name in the run directory. */
    public static final String FILE = ".lock";

    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path key;
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(Path key, FileChannel channel, FileLock lock) {
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code dir} (created if absent) for this process and writes its process id into the
     * lock file; IllegalArgumentException naming the holder's process id if another process (or
     * this one) holds it.
     */
    public static RunLock acquire(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path key = dir.toRealPath().resolve(FILE);
        if (!HELD.add(key)) {
            throw inUse(dir, ProcessHandle.current().pid());
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock = tryLock(ch);
            if (lock == null) {
                throw inUse(dir, pidIn(ch));
            }
            ch.truncate(0);
            ByteBuffer pid = ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII));
            while (pid.hasRemaining()) {
                ch.write(pid, pid.position());
            }
            ch.force(false);
            return new RunLock(key, ch, lock);
        } catch (IOException | RuntimeException e) {
            HELD.remove(key);
            if (ch != null) {
                ch.close();
            }
            throw e;
        }
    }

    /**
     * Refuses (IllegalArgumentException, as {@link #acquire}) when a live process holds the lock of
     * {@code dir}; changes nothing, and creates no file where there is none.
     */
    public static void checkFree(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return;
        }
        Path key = file.toRealPath();
        if (HELD.contains(key)) {
            throw inUse(dir, ProcessHandle.current().pid());
        }
        try (FileChannel ch = FileChannel.open(key, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock lock = tryLock(ch);
            if (lock == null) {
                throw inUse(dir, pidIn(ch));
            }
            lock.release();
        } catch (NoSuchFileException gone) {
            // removed meanwhile: nobody holds it
        }
    }

    private static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (OverlappingFileLockException e) { // held through another channel of this JVM
            return null;
        }
    }

    /** The process id written in the lock file, or -1 when it holds none (the holder is writing it). */
    private static long pidIn(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(32);
        while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
            // read what there is, up to 32 bytes
        }
        try {
            return Long.parseLong(new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static IllegalArgumentException inUse(Path dir, long pid) {
        return new IllegalArgumentException("run directory " + dir + " is in use by "
                + (pid > 0 ? "process " + pid : "another process"));
    }

    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) {
                lock.release();
            }
            channel.close();
        } finally {
            HELD.remove(key);
        }
    }
}
