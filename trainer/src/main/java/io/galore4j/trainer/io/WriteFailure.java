package io.galore4j.trainer.io;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * A file that could not be written, with the system's reason: "cannot write FILE: No space left on
 * device". Writes through a channel or stream fail with a bare IOException that names no file
 * (ENOSPC, EFBIG, EIO); the writers wrap those with {@link #of} so that the command line can say
 * which file failed.
 */
public final class WriteFailure extends FileSystemException {

    private static final long serialVersionUID = 1L;

    private WriteFailure(Path file, IOException cause) {
        super(file.toString(), null, reason(cause));
        initCause(cause);
    }

    /**
     * {@code e} itself when it already names a file (a FileSystemException), else a WriteFailure
     * naming {@code file}.
     */
    public static IOException of(Path file, IOException e) {
        return e instanceof FileSystemException ? e : new WriteFailure(file, e);
    }

    /** A WriteFailure naming {@code file} with the reason of {@code e}, whatever file {@code e} named. */
    public static WriteFailure at(Path file, IOException e) {
        return new WriteFailure(file, e);
    }

    @Override
    public String getMessage() {
        return "cannot write " + getFile() + ": " + getReason();
    }

    /** What the system said, or the exception's kind when it said nothing. */
    private static String reason(IOException e) {
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        String m = e.getMessage();
        return m != null && !m.isBlank() ? m : e.getClass().getSimpleName();
    }
}
