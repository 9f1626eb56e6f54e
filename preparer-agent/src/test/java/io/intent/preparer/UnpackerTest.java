package io.intent.preparer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unpacking real archives, friendly and hostile: nothing may land outside the install directory. */
class UnpackerTest {
    @TempDir
    Path tmp;
    Path outside;
    Path dest;
    Unpacker unpacker = new Unpacker(10L << 20, 1000);

    @BeforeEach
    void setUp() throws IOException {
        outside = Files.createDirectories(tmp.resolve("a/b"));
        dest = Files.createDirectories(outside.resolve("install"));
    }

    Path write(String name, byte[] bytes) throws IOException {
        return Files.write(tmp.resolve(name), bytes);
    }

    List<String> outsideEntries() throws IOException {
        try (Stream<Path> s = Files.walk(tmp.resolve("a"))) {
            return s.filter(p -> !p.startsWith(dest)).map(p -> tmp.relativize(p).toString()).sorted().toList();
        }
    }

    void assertRefused(String format, byte[] archive, String why) throws IOException {
        Path a = write("hostile." + format, archive);
        UnsafeArchiveException e = assertThrows(UnsafeArchiveException.class,
                () -> unpacker.unpack(a, format, dest, p -> { }));
        assertTrue(e.getMessage().contains(why), e.getMessage());
        assertEquals(List.of("a", "a/b"), outsideEntries(), "nothing was written outside the install");
        assertFalse(Files.exists(tmp.resolve("escaped")), "nothing escaped to the temp dir");
    }

    @Test
    void tarGzUnpacksFilesAndDirectoriesAndKeepsExecBits() throws Exception {
        byte[] a = Archives.of().dir("bin").file("bin/server", "#!/bin/sh\necho hi\n".getBytes(), 0755)
                .file("conf/app.properties", "x=1").file("./README", "hello").tarGz();
        unpacker.unpack(write("ok.tar.gz", a), "tar.gz", dest, p -> { });
        assertEquals("hello", Files.readString(dest.resolve("README")));
        assertEquals("x=1", Files.readString(dest.resolve("conf/app.properties")));
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dest.resolve("bin/server"));
        assertTrue(perms.contains(PosixFilePermission.OWNER_EXECUTE)
                && perms.contains(PosixFilePermission.OTHERS_EXECUTE));
        assertFalse(Files.isExecutable(dest.resolve("README")));
    }

    @Test
    void zipUnpacksAndKeepsExecBits() throws Exception {
        byte[] a = Archives.of().file("bin/run", "#!/bin/sh\n".getBytes(), 0750).file("data.txt", "d").zip();
        unpacker.unpack(write("ok.zip", a), "zip", dest, p -> { });
        assertTrue(Files.isExecutable(dest.resolve("bin/run")));
        assertEquals("d", Files.readString(dest.resolve("data.txt")));
    }

    @Test
    void plainTarWorks() throws Exception {
        unpacker.unpack(write("ok.tar", Archives.of().file("f", "plain").tar()), "tar", dest, p -> { });
        assertEquals("plain", Files.readString(dest.resolve("f")));
    }

    @Test
    void symlinksThatStayInsideAreKept() throws Exception {
        byte[] a = Archives.of().file("lib/libx.so.1", "elf").symlink("lib/libx.so", "libx.so.1")
                .symlink("bin/lib", "../lib").symlink("self", ".").tarGz();
        unpacker.unpack(write("links.tar.gz", a), "tar.gz", dest, p -> { });
        assertTrue(Files.isSymbolicLink(dest.resolve("lib/libx.so")));
        assertEquals("elf", Files.readString(dest.resolve("bin/lib/libx.so")));
    }

    @Test
    void zipSlipWithDotDotIsRefused() throws Exception {
        assertRefused("tar.gz", Archives.of().file("ok", "x").file("../../../escaped", "pwned").tarGz(), "'..'");
        assertRefused("zip", Archives.of().file("../../../escaped", "pwned").zip(), "'..'");
        assertRefused("tar", Archives.of().file("sub/../../escaped", "pwned").tar(), "'..'");
    }

    @Test
    void absolutePathsAreRefused() throws Exception {
        String abs = tmp.resolve("escaped").toString();
        assertRefused("tar.gz", Archives.of().file(abs, "pwned").tarGz(), "absolute path");
        assertRefused("zip", Archives.of().file(abs, "pwned").zip(), "absolute path");
    }

    @Test
    void symlinksPointingOutsideAreRefused() throws Exception {
        assertRefused("tar.gz", Archives.of().symlink("etc", tmp.toString()).tarGz(), "absolute path");
        assertRefused("tar.gz", Archives.of().symlink("up", "../../..").tarGz(), "points outside");
        assertRefused("zip", Archives.of().symlink("up", "../x").zip(), "points outside");
    }

    @Test
    void aSymlinkEscapeThroughAnotherSymlinkIsRefused() throws Exception {
        // lexically a -> b/.. stays inside, but b is a link to '.', so physically a is the parent directory
        assertRefused("tar.gz", Archives.of().symlink("b", ".").symlink("a", "b/..").tarGz(), "resolves outside");
        assertRefused("tar.gz", Archives.of().dir("d").symlink("d/l", "..").symlink("x", "d/l/d/l/..").tarGz(),
                "resolves outside");
    }

    @Test
    void writingThroughASymlinkIsRefused() throws Exception {
        // the classic two-step escape: a link (dangling, inside) followed by a file written through it
        assertRefused("tar.gz", Archives.of().dir("sub").symlink("link", "sub").file("link/escaped", "x").tarGz(),
                "made it a symlink");
    }

    @Test
    void hardLinksOutsideAreRefused() throws Exception {
        Path victim = Files.writeString(tmp.resolve("victim"), "secret");
        assertRefused("tar.gz", Archives.of().hardlink("h", "../../../victim").tarGz(), "points outside");
        assertRefused("tar.gz", Archives.of().hardlink("h", victim.toString()).tarGz(), "points outside");
        assertRefused("tar.gz", Archives.of().symlink("l", ".").hardlink("h", "l").tarGz(), "not a file earlier");
        assertEquals("secret", Files.readString(victim));
    }

    @Test
    void hardLinksToEarlierFilesWork() throws Exception {
        byte[] a = Archives.of().file("a", "same").hardlink("b", "a").tar();
        unpacker.unpack(write("h.tar", a), "tar", dest, p -> { });
        assertEquals("same", Files.readString(dest.resolve("b")));
    }

    @Test
    void deviceFilesAndFifosAreRefused() throws Exception {
        assertRefused("tar.gz", Archives.of().file("ok", "x").device("dev/sda").tarGz(), "device file");
        assertRefused("tar", Archives.of().fifo("pipe").tar(), "FIFO");
        assertRefused("zip", Archives.of().device("dev/null").zip(), "special file");
    }

    @Test
    void anArchiveBombStopsAtTheLimit() throws Exception {
        byte[] zeros = new byte[20 << 20];
        byte[] bomb = Archives.of().file("zeros", zeros, 0644).tarGz();
        assertTrue(bomb.length < 200_000, "the bomb is small: " + bomb.length);
        assertRefused("tar.gz", bomb, "archive bomb");
        assertTrue(Files.size(dest.resolve("zeros")) <= 10L << 20, "stopped writing at the limit");
        assertRefused("zip", Archives.of().file("zeros", zeros, 0644).zip(), "archive bomb");
    }

    @Test
    void tooManyEntriesAreRefused() throws Exception {
        Archives many = Archives.of();
        for (int i = 0; i < 1001; i++) {
            many.file("f" + i, "");
        }
        assertRefused("tar.gz", many.tarGz(), "more than 1000 entries");
    }

    @Test
    void anEntryNamedLikeTheMarkerIsRefused() throws Exception {
        assertRefused("tar.gz", Archives.of().file(".intent-install.json", "{}").tarGz(), "reserved");
    }

    @Test
    void aTruncatedArchiveIsCorruptAndNothingOfItRemainsOutside() throws Exception {
        byte[] whole = Archives.of().file("a", Archives.mixed(5, 200_000), 0644).file("b", "b").tarGz();
        Path a = write("cut.tar.gz", java.util.Arrays.copyOf(whole, whole.length / 2));
        PrepareException e = assertThrows(PrepareException.class, () -> unpacker.unpack(a, "tar.gz", dest, p -> { }));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        assertEquals(List.of("a", "a/b"), outsideEntries());
    }

    @Test
    void garbageIsACorruptArchiveNotACrash() throws Exception {
        Path a = write("junk.tar.gz", "this is not gzip".getBytes());
        PrepareException e = assertThrows(PrepareException.class, () -> unpacker.unpack(a, "tar.gz", dest, p -> { }));
        assertTrue(e.getMessage().contains("corrupt") || e.getMessage().contains("Not in GZIP"), e.getMessage());
        Path z = write("junk.zip", "this is not a zip".getBytes());
        assertThrows(PrepareException.class, () -> unpacker.unpack(z, "zip", dest, p -> { }));
        assertFalse(Files.exists(tmp.resolve("escaped"), LinkOption.NOFOLLOW_LINKS));
    }
}
