package io.intent.demo;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Builds the demo app's artifacts from {@code test-data/demo-app}: one tar per version holding
 * {@code bin/server} and a {@code VERSION} file. The tars are byte-for-byte reproducible (fixed order,
 * owners and times), so the demo intents in {@code test-data/demo/} can name their sha256 and a test can check
 * that they still match.
 */
public final class DemoArtifacts {
    /** The versions the demo intents list. */
    public static final String[] VERSIONS = {"1.0", "2.0"};
    private static final long EPOCH_2026 = 1767225600L;

    private DemoArtifacts() {
    }

    /** The artifact's file name for a version. */
    public static String fileName(String version) {
        return "demo-web-" + version + ".tar";
    }

    /** Writes every version's tar into {@code repo}; returns file name → sha256. */
    public static Map<String, String> build(Path demoApp, Path repo) throws IOException {
        Files.createDirectories(repo);
        Map<String, String> digests = new LinkedHashMap<>();
        byte[] server = Files.readAllBytes(demoApp.resolve("bin/server"));
        for (String v : VERSIONS) {
            Path out = repo.resolve(fileName(v));
            Path tmp = repo.resolve("." + fileName(v) + ".tmp");
            try (OutputStream os = Files.newOutputStream(tmp);
                 TarArchiveOutputStream tar = new TarArchiveOutputStream(os)) {
                dir(tar, "bin/");
                file(tar, "bin/server", server, 0755);
                file(tar, "VERSION", (v + "\n").getBytes(StandardCharsets.UTF_8), 0644);
                tar.finish();
            }
            Files.move(tmp, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            digests.put(fileName(v), sha256(Files.readAllBytes(out)));
        }
        return digests;
    }

    private static void dir(TarArchiveOutputStream tar, String name) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(040755);
        fixed(e);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] body, int mode) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(0100000 | mode);
        e.setSize(body.length);
        fixed(e);
        tar.putArchiveEntry(e);
        tar.write(body);
        tar.closeArchiveEntry();
    }

    private static void fixed(TarArchiveEntry e) {
        e.setModTime(EPOCH_2026 * 1000);
        e.setUserId(0);
        e.setGroupId(0);
        e.setUserName("root");
        e.setGroupName("root");
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
