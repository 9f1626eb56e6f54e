package io.intent.preparer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

/** Builds real tar, tar.gz and zip archives in tests, including hostile ones, with commons-compress writers. */
final class Archives {
    /** One entry: type f (file), d (dir), l (symlink), h (hard link), c (char device), p (fifo). */
    record E(char type, String name, byte[] data, String link, int mode) {
    }

    private final List<E> entries = new ArrayList<>();

    static Archives of() {
        return new Archives();
    }

    Archives file(String name, String content) {
        return file(name, content.getBytes(StandardCharsets.UTF_8), 0644);
    }

    Archives file(String name, byte[] data, int mode) {
        entries.add(new E('f', name, data, null, mode));
        return this;
    }

    Archives dir(String name) {
        entries.add(new E('d', name, null, null, 0755));
        return this;
    }

    Archives symlink(String name, String target) {
        entries.add(new E('l', name, null, target, 0777));
        return this;
    }

    Archives hardlink(String name, String target) {
        entries.add(new E('h', name, null, target, 0644));
        return this;
    }

    Archives device(String name) {
        entries.add(new E('c', name, null, null, 0600));
        return this;
    }

    Archives fifo(String name) {
        entries.add(new E('p', name, null, null, 0600));
        return this;
    }

    byte[] tar() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        writeTar(bos);
        return bos.toByteArray();
    }

    byte[] tarGz() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos, 1 << 16)) {
            writeTar(gz);
        }
        return bos.toByteArray();
    }

    void writeTar(OutputStream os) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(os);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        for (E e : entries) {
            TarArchiveEntry t;
            switch (e.type) {
                case 'f' -> {
                    t = new TarArchiveEntry(e.name, true);
                    t.setSize(e.data.length);
                }
                case 'd' -> t = new TarArchiveEntry(e.name.endsWith("/") ? e.name : e.name + "/");
                case 'l' -> {
                    t = new TarArchiveEntry(e.name, TarConstants.LF_SYMLINK, true);
                    t.setLinkName(e.link);
                }
                case 'h' -> {
                    t = new TarArchiveEntry(e.name, TarConstants.LF_LINK, true);
                    t.setLinkName(e.link);
                }
                case 'c' -> t = new TarArchiveEntry(e.name, TarConstants.LF_CHR);
                case 'p' -> t = new TarArchiveEntry(e.name, TarConstants.LF_FIFO);
                default -> throw new IllegalArgumentException("type " + e.type);
            }
            t.setMode(e.mode | (e.type == 'd' ? 040000 : e.type == 'l' ? 0120000 : 0100000));
            tar.putArchiveEntry(t);
            if (e.type == 'f') {
                tar.write(e.data);
            }
            tar.closeArchiveEntry();
        }
        tar.finish();
    }

    byte[] zip() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bos)) {
            for (E e : entries) {
                ZipArchiveEntry z;
                switch (e.type) {
                    case 'f' -> {
                        z = new ZipArchiveEntry(e.name);
                        z.setUnixMode(0100000 | e.mode);
                    }
                    case 'd' -> {
                        z = new ZipArchiveEntry(e.name.endsWith("/") ? e.name : e.name + "/");
                        z.setUnixMode(040000 | e.mode);
                    }
                    case 'l' -> {
                        z = new ZipArchiveEntry(e.name);
                        z.setUnixMode(0120000 | 0777);
                    }
                    case 'c' -> {
                        z = new ZipArchiveEntry(e.name);
                        z.setUnixMode(0020000 | 0600);
                    }
                    default -> throw new IllegalArgumentException("zip cannot hold type " + e.type);
                }
                zip.putArchiveEntry(z);
                if (e.type == 'f') {
                    zip.write(e.data);
                } else if (e.type == 'l') {
                    zip.write(e.link.getBytes(StandardCharsets.UTF_8));
                }
                zip.closeArchiveEntry();
            }
        }
        return bos.toByteArray();
    }

    /** Deterministic bytes: a mix of compressible text and random noise, like real binaries and resources. */
    static byte[] mixed(long seed, int size) {
        Random r = new Random(seed);
        byte[] out = new byte[size];
        int i = 0;
        while (i < size) {
            int run = Math.min(size - i, 256 + r.nextInt(4096));
            if (r.nextBoolean()) {
                for (int j = 0; j < run; j++) {
                    out[i + j] = (byte) ('a' + (j * 7 + i) % 26);
                }
            } else {
                byte[] noise = new byte[run];
                r.nextBytes(noise);
                System.arraycopy(noise, 0, out, i, run);
            }
            i += run;
        }
        return out;
    }

    static String sha(byte[] bytes) {
        return Sha256.of(bytes);
    }
}
